#include "http/router.h"

#include <optional>

#include "core/slug.h"
#include "http/problem.h"
#include "http/routes/routes.h"
#include "http/wire.h"

namespace shortener::http {

namespace {

constexpr std::string_view kApiPrefix = "/api/";
constexpr std::string_view kLinksPath = "/api/v1/links";

// The slug of a redirect request (GET or HEAD of /{slug}), for the fast path and the prefetch.
// /metrics and /readyz parse as slugs but are none (slug.cpp reserves the names; handle()
// answers them before it looks for a slug): neither the L1 nor the prefetcher is asked.
std::optional<std::string_view> redirect_slug(const Request& request) {
  std::string_view path = request.path;
  if (!request.is_get_or_head() || path.starts_with(kApiPrefix) || path == "/metrics" ||
      path == "/readyz")
    return std::nullopt;
  auto slug = parse_slug_path(path);
  if (!slug || slug->preview) return std::nullopt;
  return slug->slug;
}

}  // namespace

bool Router::try_handle_fast(const Request& request, Response& response) {
  if (request.path == "/healthz" && request.is_get_or_head()) {
    response.route = "healthz";
    routes::healthz(response);
    return true;
  }
  if (!request.is_get_or_head() || request.path.starts_with(kApiPrefix)) return false;
  response.route = "web";
  if (context_.web && context_.web->serve(request, response)) return true;  // in memory
  auto slug = redirect_slug(request);
  if (!slug) return false;
  response.route = "redirect";
  return routes::redirect_fast(context_, request, *slug, response);
}

void Router::prefetch(const Request& request, PrefetchDone done) {
  // Only a redirect's link lookup has a non-blocking way to the cache; everything else that
  // missed the fast path needs the pool.
  auto slug = redirect_slug(request);
  if (!slug) return done(nullptr);
  context_.links.prefetch(*slug, [this, done = std::move(done)](
                                     std::optional<Resolution> resolution) mutable {
    if (!resolution) return done(nullptr);
    done([this, resolution = std::move(*resolution)](const Request& request, Response& response) {
      response.route = "redirect";
      routes::redirect_resolved(context_, request, resolution, response);
      return true;
    });
  });
}

void Router::handle(const Request& request, Response& response) {
  std::string_view path = request.path;
  if (path.starts_with(kApiPrefix)) return handle_api(request, response);
  if (path == "/metrics") {
    response.route = "metrics";
    if (!request.is_get_or_head()) return method_not_allowed(response, "GET, HEAD");
    response.set(200, "text/plain; version=0.0.4; charset=utf-8", context_.metrics());
    response.cache_control = kNoStore;
    return;
  }
  if (path == "/healthz" || path == "/readyz") {
    response.route = path == "/healthz" ? "healthz" : "readyz";
    if (!request.is_get_or_head()) return method_not_allowed(response, "GET, HEAD");
    return path == "/healthz" ? routes::healthz(response) : routes::readyz(context_, response);
  }
  auto slug = parse_slug_path(path);
  response.route = !slug ? "not_found" : slug->preview ? "preview" : "redirect";
  if (!slug) return routes::not_found_page(response);
  if (!request.is_get_or_head()) return method_not_allowed(response, "GET, HEAD");
  if (slug->preview) return routes::preview(context_, request, slug->slug, response);
  routes::redirect(context_, request, slug->slug, response);
}

void Router::handle_api(const Request& request, Response& response) {
  std::string_view path = request.path;
  response.route = "api_other";
  if (path == kLinksPath) {
    response.route = "api_links";
    switch (request.method) {
      case Method::get:
      case Method::head:
        return routes::list_links(context_, request, response);
      case Method::post:
        return routes::create_link(context_, request, response);
      default:
        return method_not_allowed(response, "GET, HEAD, POST");
    }
  }
  if (path == "/api/v1/stats" || path == "/api/v1/live") {
    response.route = path == "/api/v1/stats" ? "api_stats" : "api_live";
    if (!request.is_get_or_head()) return method_not_allowed(response, "GET, HEAD");
    return path == "/api/v1/stats" ? routes::account_stats(context_, request, response)
                                   : routes::account_live(context_, request, response);
  }
  if (path.starts_with(kLinksPath) && path.size() > kLinksPath.size() + 1 &&
      path[kLinksPath.size()] == '/') {
    std::string_view rest = path.substr(kLinksPath.size() + 1);
    auto slash = rest.find('/');
    std::string_view slug = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
      response.route = "api_link";
      switch (request.method) {
        case Method::get:
        case Method::head:
          return routes::get_link(context_, request, slug, response);
        case Method::patch:
          return routes::update_link(context_, request, slug, response);
        case Method::delete_:
          return routes::delete_link(context_, request, slug, response);
        default:
          return method_not_allowed(response, "GET, HEAD, PATCH, DELETE");
      }
    }
    std::string_view sub = rest.substr(slash + 1);
    if (sub == "stats" || sub == "clicks.csv" || sub == "live") {
      response.route = sub == "stats"  ? "api_link_stats"
                       : sub == "live" ? "api_link_live"
                                       : "api_export";
      if (!request.is_get_or_head()) return method_not_allowed(response, "GET, HEAD");
      if (sub == "stats") return routes::link_stats(context_, request, slug, response);
      if (sub == "live") return routes::link_live(context_, request, slug, response);
      return routes::export_clicks(context_, request, slug, response);
    }
  }
  problem(response, Errc::not_found, "no API endpoint at " + std::string(path));
}

}  // namespace shortener::http
