// /api/v1/links: create, list, read, change, delete. JSON in, JSON out, problem+json on error.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "core/time.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/routes/routes.h"
#include "http/wire.h"

namespace shortener::http::routes {

namespace json = boost::json;

namespace {

constexpr int kDefaultPageSize = 50;

json::value time_or_null(std::optional<TimeUs> t) {
  if (!t) return nullptr;
  return json::value(format_rfc3339(*t));
}

json::object link_json(const RouteContext& ctx, const Link& link) {
  json::object out;
  out["slug"] = link.slug;
  out["short_url"] = ctx.public_url + "/" + link.slug;
  out["url"] = link.url;
  out["title"] = link.title;
  out["created_at"] = format_rfc3339(link.created_at);
  out["expires_at"] = time_or_null(link.expires_at);
  out["stats_url"] =
      ctx.public_url + "/dashboard/links/" + link.slug + "#token=" + link.stats_token;
  return out;
}

void reply_json(Response& response, int status, const json::value& body) {
  response.set(status, kJson, json::serialize(body));
  response.cache_control = kNoStore;
}

// The request body as a JSON object, or a problem already written into `response`.
std::optional<json::object> body_object(const Request& request, Response& response) {
  // curl -d sends x-www-form-urlencoded by default; the body must still be JSON.
  std::string_view type = request.content_type;
  if (!type.empty() && !type.starts_with("application/json") &&
      !type.starts_with("application/x-www-form-urlencoded")) {
    problem(response, Errc::unsupported_media, "Content-Type must be application/json");
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value value = json::parse(request.body, ec);
  if (ec) {
    problem(response, Errc::invalid_input, "request body is not valid JSON: " + ec.message());
    return std::nullopt;
  }
  if (!value.is_object()) {
    problem(response, Errc::invalid_input, "request body must be a JSON object");
    return std::nullopt;
  }
  return std::move(value.as_object());
}

// Field readers: absent -> nullopt; wrong type -> error naming the field.
Result<std::optional<std::string>> string_field(const json::object& body, std::string_view name,
                                                bool nullable) {
  auto it = body.find(name);
  if (it == body.end()) return std::optional<std::string>{};
  if (it->value().is_null() && nullable) return std::optional<std::string>{};
  if (!it->value().is_string())
    return fail(Errc::invalid_input, std::string(name) + " must be a string");
  const auto& s = it->value().as_string();
  return std::optional<std::string>{std::string(s.data(), s.size())};
}

Result<std::optional<TimeUs>> time_field(const json::object& body, std::string_view name) {
  auto text = string_field(body, name, true);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<TimeUs>{};
  auto t = parse_rfc3339(**text);
  if (!t)
    return fail(Errc::invalid_input,
                std::string(name) + " must be an RFC 3339 timestamp like 2030-01-02T03:04:05Z");
  return std::optional<TimeUs>{*t};
}

Result<void> only_fields(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& item : body) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end())
      return fail(Errc::invalid_input, "unknown field '" + std::string(item.key()) + "'");
  }
  return {};
}

Result<CreateLink> parse_create(const json::object& body) {
  if (auto ok = only_fields(body, {"url", "slug", "expires_at", "title"}); !ok)
    return std::unexpected(ok.error());
  auto url = string_field(body, "url", false);
  if (!url) return std::unexpected(url.error());
  if (!*url) return fail(Errc::invalid_input, "url is required");
  auto slug = string_field(body, "slug", true);
  if (!slug) return std::unexpected(slug.error());
  auto title = string_field(body, "title", true);
  if (!title) return std::unexpected(title.error());
  auto expires = time_field(body, "expires_at");
  if (!expires) return std::unexpected(expires.error());
  return CreateLink{.url = std::move(**url),
                    .slug = std::move(*slug),
                    .expires_at = *expires,
                    .title = title->value_or("")};
}

Result<LinkPatch> parse_patch(const json::object& body) {
  if (auto ok = only_fields(body, {"url", "expires_at", "title"}); !ok)
    return std::unexpected(ok.error());
  if (body.empty())
    return fail(Errc::invalid_input, "nothing to change: give url, title or expires_at");
  LinkPatch patch;
  auto url = string_field(body, "url", false);
  if (!url) return std::unexpected(url.error());
  patch.url = std::move(*url);
  auto title = string_field(body, "title", false);
  if (!title) return std::unexpected(title.error());
  patch.title = std::move(*title);
  if (body.contains("expires_at")) {
    auto expires = time_field(body, "expires_at");
    if (!expires) return std::unexpected(expires.error());
    patch.expires_at = *expires;
  }
  return patch;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<std::optional<std::string_view>> bearer_of(const Request& request) {
  if (request.authorization.empty()) return std::optional<std::string_view>{};
  std::string_view auth = request.authorization;
  constexpr std::string_view kBearer = "bearer ";
  bool bearer = auth.size() > kBearer.size() &&
                std::equal(kBearer.begin(), kBearer.end(), auth.begin(),
                           [](char a, char b) { return a == std::tolower(b); });
  if (!bearer) return fail(Errc::unauthorized, "Authorization must be 'Bearer <API key>'");
  return std::optional<std::string_view>{auth.substr(kBearer.size())};
}

Result<Caller> caller_of(const RouteContext& ctx, const Request& request) {
  auto bearer = bearer_of(request);
  if (!bearer) return std::unexpected(bearer.error());
  return ctx.links.authenticate(
      *bearer,
      client_address(request.peer, request.x_forwarded_for, ctx.trusted_proxies).to_string());
}

void create_link(const RouteContext& ctx, const Request& request, Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  auto body = body_object(request, response);
  if (!body) return;
  auto input = parse_create(*body);
  if (!input) return problem(response, input.error());
  auto link = ctx.links.create(*input, *caller);
  if (!link) return problem(response, link.error());
  reply_json(response, 201, link_json(ctx, *link));
  response.headers.emplace_back("Location", "/api/v1/links/" + link->slug);
}

void list_links(const RouteContext& ctx, const Request& request, Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  int limit = kDefaultPageSize;
  if (auto text = query_param(request.query, "limit")) {
    auto value = parse_int(*text);
    if (!value || *value < 1 || *value > 1000)
      return problem(response, Errc::invalid_input, "limit must be an integer from 1 to 1000");
    limit = static_cast<int>(*value);
  }
  std::optional<std::int64_t> cursor;
  if (auto text = query_param(request.query, "cursor"); text && !text->empty()) {
    cursor = parse_int(*text);
    if (!cursor || *cursor < 0) return problem(response, Errc::invalid_input, "cursor is invalid");
  }
  auto page = ctx.links.list(*caller, limit, cursor);
  if (!page) return problem(response, page.error());
  json::array links;
  for (const Link& link : page->links) links.push_back(link_json(ctx, link));
  json::object out;
  out["links"] = std::move(links);
  out["next_cursor"] =
      page->next_cursor ? json::value(std::to_string(*page->next_cursor)) : json::value(nullptr);
  reply_json(response, 200, out);
}

void get_link(const RouteContext& ctx, const Request& request, std::string_view slug,
              Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  auto link = ctx.links.get(slug, *caller);
  if (!link) return problem(response, link.error());
  reply_json(response, 200, link_json(ctx, *link));
}

void update_link(const RouteContext& ctx, const Request& request, std::string_view slug,
                 Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  auto body = body_object(request, response);
  if (!body) return;
  auto patch = parse_patch(*body);
  if (!patch) return problem(response, patch.error());
  auto link = ctx.links.update(slug, *patch, *caller);
  if (!link) return problem(response, link.error());
  reply_json(response, 200, link_json(ctx, *link));
}

void delete_link(const RouteContext& ctx, const Request& request, std::string_view slug,
                 Response& response) {
  auto caller = caller_of(ctx, request);
  if (!caller) return problem(response, caller.error());
  auto removed = ctx.links.remove(slug, *caller);
  if (!removed) return problem(response, removed.error());
  response.status = 204;
  response.cache_control = kNoStore;
}

}  // namespace shortener::http::routes
