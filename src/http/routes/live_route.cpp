// Server-sent events: each stored click as `event: click` with its enriched fields (never the
// IP). The subscription is made when the server starts streaming, with the connection's wake.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/time.h"
#include "http/problem.h"
#include "http/routes/routes.h"
#include "http/wire.h"

namespace shortener::http::routes {

namespace json = boost::json;

namespace {

constexpr std::string_view kEventStream = "text/event-stream";

class LiveStream final : public EventStream {
 public:
  LiveStream(LiveFeed& feed, LiveFilter filter, std::string last_event_id)
      : feed_(feed), filter_(filter), last_event_id_(std::move(last_event_id)) {}

  void start(std::function<void()> wake) override {
    subscription_ = feed_.subscribe(filter_, std::move(wake), last_event_id_);
  }

  bool poll(std::string& out) override {
    if (!greeted_) {
      out += "retry: 2000\n: connected\n\n";  // reconnect after 2 s if the stream drops
      greeted_ = true;
    }
    if (subscription_->dropped()) return false;  // too slow: the client reconnects
    for (const auto& click : subscription_->drain()) append_event(out, *click);
    return true;
  }

 private:
  static void append_event(std::string& out, const EnrichedClick& c) {
    json::object data{{"id", c.id},
                      {"slug", c.slug},
                      {"t", format_rfc3339(c.at)},
                      {"country", c.country},
                      {"region", c.region},
                      {"city", c.city},
                      {"referrer", c.referrer},
                      {"device", c.device},
                      {"browser", c.browser},
                      {"browser_version", c.browser_version},
                      {"os", c.os},
                      {"bot", c.bot},
                      {"bot_reason", c.bot_reason},
                      {"unique", c.unique}};
    out += "id: ";
    out += c.id;
    out += "\nevent: click\ndata: ";
    out += json::serialize(data);  // JSON never holds a raw newline
    out += "\n\n";
  }

  LiveFeed& feed_;
  LiveFilter filter_;
  std::string last_event_id_;
  std::unique_ptr<LiveSubscription> subscription_;
  bool greeted_ = false;
};

void start_stream(const RouteContext& ctx, const Request& request, LiveFilter filter,
                  Response& response) {
  response.status = 200;
  response.content_type = kEventStream;
  response.cache_control = kNoStore;
  response.headers.emplace_back("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  response.stream = std::make_shared<LiveStream>(ctx.live, filter, request.last_event_id);
}

}  // namespace

void link_live(const RouteContext& ctx, const Request& request, std::string_view slug,
               Response& response) {
  auto bearer = bearer_of(request);
  if (!bearer) return problem(response, bearer.error());
  auto link = ctx.links.stats_access(
      slug, *bearer,
      client_address(request.peer, request.x_forwarded_for, ctx.trusted_proxies).to_string());
  if (!link) return problem(response, link.error());
  start_stream(ctx, request, LiveFilter{.link_id = link->id, .account_id = std::nullopt}, response);
}

void account_live(const RouteContext& ctx, const Request& request, Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  if (caller->anonymous()) return problem(response, Errc::unauthorized, "an API key is required");
  start_stream(ctx, request, LiveFilter{.link_id = std::nullopt, .account_id = caller->account->id},
               response);
}

}  // namespace shortener::http::routes
