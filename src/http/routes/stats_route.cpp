// Analytics reads: per-link and account-wide stats (from rollups) and the raw-click CSV export.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/stats_query.h"
#include "core/time.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/routes/routes.h"
#include "http/wire.h"

namespace shortener::http::routes {

namespace json = boost::json;

namespace {

constexpr std::string_view kCsv = "text/csv; charset=utf-8";

Result<std::optional<TimeUs>> time_param(const Request& request, std::string_view name) {
  auto text = query_param(request.query, name);
  if (!text || text->empty()) return std::optional<TimeUs>{};
  auto t = parse_rfc3339(*text);
  if (!t) return fail(Errc::invalid_input, std::string(name) + " must be an RFC 3339 timestamp");
  return std::optional<TimeUs>{*t};
}

Result<StatsQuery> parse_query(const RouteContext& ctx, const Request& request) {
  auto from = time_param(request, "from");
  if (!from) return std::unexpected(from.error());
  auto to = time_param(request, "to");
  if (!to) return std::unexpected(to.error());
  std::optional<Interval> interval;
  if (auto text = query_param(request.query, "interval"); text && !text->empty()) {
    interval = parse_interval(*text);
    if (!interval) return fail(Errc::invalid_input, "interval must be minute, hour or day");
  }
  bool bots = false;
  if (auto text = query_param(request.query, "bots"); text && !text->empty()) {
    if (*text != "include" && *text != "exclude")
      return fail(Errc::invalid_input, "bots must be include or exclude");
    bots = *text == "include";
  }
  return plan_stats_query(*from, *to, interval, bots, ctx.clock.now_us());
}

json::array counts_json(const std::vector<Count>& counts) {
  json::array out;
  for (const Count& c : counts) out.push_back(json::object{{"key", c.key}, {"clicks", c.clicks}});
  return out;
}

json::object stats_json(const Stats& stats, const StatsQuery& query) {
  json::array series;
  for (const Bucket& b : stats.timeseries)
    series.push_back(
        json::object{{"t", format_rfc3339(b.t)}, {"clicks", b.clicks}, {"unique", b.unique}});
  return json::object{{"from", format_rfc3339(query.from)},
                      {"to", format_rfc3339(query.to)},
                      {"interval", interval_name(query.interval)},
                      {"bots_included", query.include_bots},
                      {"total", stats.total},
                      {"unique", stats.unique},
                      {"bots", stats.bots},
                      {"timeseries", std::move(series)},
                      {"countries", counts_json(stats.countries)},
                      {"cities", counts_json(stats.cities)},
                      {"referrers", counts_json(stats.referrers)},
                      {"devices", counts_json(stats.devices)},
                      {"browsers", counts_json(stats.browsers)},
                      {"os", counts_json(stats.os)}};
}

Result<Link> link_for_analytics(const RouteContext& ctx, const Request& request,
                                std::string_view slug) {
  auto bearer = bearer_of(request);
  if (!bearer) return std::unexpected(bearer.error());
  return ctx.links.stats_access(
      slug, *bearer,
      client_address(request.peer, request.x_forwarded_for, ctx.trusted_proxies).to_string());
}

// CSV cell: quoted when needed; a leading =,+,-,@ is neutralised so spreadsheets do not
// evaluate it (CSV injection), since referrers and destinations are visitor-controlled.
void csv_cell(std::string& out, std::string_view value) {
  bool formula =
      !value.empty() && std::string_view("=+-@\t\r").find(value[0]) != std::string_view::npos;
  bool quote = formula || value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quote) out += '"';
  if (formula) out += '\'';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  if (quote) out += '"';
}

void append_csv_row(std::string& csv, const EnrichedClick& c) {
  csv_cell(csv, c.id);
  csv += ',';
  csv += format_rfc3339(c.at);
  for (const std::string* cell : {&c.country, &c.region, &c.city, &c.referrer, &c.device,
                                  &c.browser, &c.browser_version, &c.os}) {
    csv += ',';
    csv_cell(csv, *cell);
  }
  csv += c.bot ? ",true," : ",false,";
  csv_cell(csv, c.bot_reason);
  csv += c.unique ? ",true," : ",false,";
  csv_cell(csv, c.utm_source);
  csv += ',';
  csv_cell(csv, c.destination);
  csv += '\n';
}

// Streams the raw-click export: a producer thread reads rows from the store into a bounded
// buffer (it waits while the client is slower), the connection drains it on every wake, so
// neither memory nor the I/O thread depends on the size of the export. The body ends when the
// connection closes; a store error mid-way truncates it (the status was already sent).
class CsvExport final : public EventStream {
 public:
  CsvExport(StatsStore& store, std::int64_t link_id, TimeUs from, TimeUs to)
      : store_(store), link_id_(link_id), from_(from), to_(to) {
    buffer_ =
        "id,time,country,region,city,referrer,device,browser,browser_version,os,bot,bot_reason,"
        "unique,utm_source,destination\n";
  }
  ~CsvExport() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    space_.notify_all();
    if (producer_.joinable()) producer_.join();
  }

  void start(std::function<void()> wake) override {
    wake_ = std::move(wake);
    producer_ = std::thread([this] { produce(); });
  }

  bool poll(std::string& out) override {
    std::lock_guard lock(mutex_);
    out.swap(buffer_);
    buffer_.clear();
    space_.notify_all();
    return !(done_ && out.empty());
  }
  std::string_view heartbeat() const override { return {}; }  // a CSV body has no comments

 private:
  static constexpr std::size_t kMaxBuffered = 1 << 20;

  void produce() {
    (void)store_.export_clicks(link_id_, from_, to_, [this](const EnrichedClick& click) {
      std::unique_lock lock(mutex_);
      space_.wait(lock, [this] { return cancelled_ || buffer_.size() < kMaxBuffered; });
      if (cancelled_) return false;
      bool was_empty = buffer_.empty();
      append_csv_row(buffer_, click);
      lock.unlock();
      if (was_empty) wake_();
      return true;
    });
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_();
  }

  StatsStore& store_;
  std::int64_t link_id_;
  TimeUs from_, to_;
  std::function<void()> wake_;
  std::mutex mutex_;
  std::condition_variable space_;
  std::string buffer_;
  bool done_ = false;
  bool cancelled_ = false;
  std::thread producer_;
};

}  // namespace

void link_stats(const RouteContext& ctx, const Request& request, std::string_view slug,
                Response& response) {
  auto link = link_for_analytics(ctx, request, slug);
  if (!link) return problem(response, link.error());
  auto query = parse_query(ctx, request);
  if (!query) return problem(response, query.error());
  query->link_ids = {link->id};
  auto stats = ctx.stats.stats(*query);
  if (!stats) return problem(response, stats.error());
  fill_timeseries(*stats, *query);
  json::object out = stats_json(*stats, *query);
  out["slug"] = link->slug;
  response.set(200, kJson, json::serialize(out));
  response.cache_control = kNoStore;
}

void account_stats(const RouteContext& ctx, const Request& request, Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  auto links = ctx.links.all_links(*caller);
  if (!links) return problem(response, links.error());
  auto query = parse_query(ctx, request);
  if (!query) return problem(response, query.error());
  std::unordered_map<std::int64_t, const Link*> by_id;
  for (const Link& link : *links) {
    query->link_ids.push_back(link.id);
    by_id[link.id] = &link;
  }
  Stats stats;
  if (!query->link_ids.empty()) {
    auto result = ctx.stats.stats(*query);
    if (!result) return problem(response, result.error());
    stats = std::move(*result);
    // Stores rank links only across several; a single link is trivially the top one.
    if (query->link_ids.size() == 1 && stats.top_links.empty() && stats.total > 0)
      stats.top_links.emplace_back(query->link_ids.front(), stats.total);
  }
  fill_timeseries(stats, *query);
  json::object out = stats_json(stats, *query);
  json::array top;
  for (const auto& [id, clicks] : stats.top_links) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    top.push_back(
        json::object{{"slug", it->second->slug}, {"url", it->second->url}, {"clicks", clicks}});
  }
  out["links"] = static_cast<std::int64_t>(links->size());
  out["top_links"] = std::move(top);
  response.set(200, kJson, json::serialize(out));
  response.cache_control = kNoStore;
}

void export_clicks(const RouteContext& ctx, const Request& request, std::string_view slug,
                   Response& response) {
  auto link = link_for_analytics(ctx, request, slug);
  if (!link) return problem(response, link.error());
  auto from = time_param(request, "from");
  if (!from) return problem(response, from.error());
  auto to = time_param(request, "to");
  if (!to) return problem(response, to.error());
  response.status = 200;
  response.content_type = kCsv;
  response.cache_control = kNoStore;
  response.headers.emplace_back("Content-Disposition",
                                "attachment; filename=\"" + link->slug + "-clicks.csv\"");
  response.stream = std::make_shared<CsvExport>(ctx.stats, link->id, from->value_or(0),
                                                to->value_or(ctx.clock.now_us() + 1));
}

}  // namespace shortener::http::routes
