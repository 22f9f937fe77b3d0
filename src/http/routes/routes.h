// Route functions: each parses its input, calls one LinkService use case, maps the result.
#pragma once

#include <string_view>

#include "http/request.h"
#include "http/response.h"
#include "http/router.h"

namespace shortener::http::routes {

// Redirects (redirect_route.cpp). redirect_fast answers from the L1 cache only and returns
// false on a miss, so the caller can retry on the blocking pool with redirect().
bool redirect_fast(const RouteContext& ctx, const Request& request, std::string_view slug,
                   Response& response);
void redirect(const RouteContext& ctx, const Request& request, std::string_view slug,
              Response& response);
// The redirect's answer (and its click) for a resolution found elsewhere (a prefetch).
void redirect_resolved(const RouteContext& ctx, const Request& request,
                       const Resolution& resolution, Response& response);
void preview(const RouteContext& ctx, const Request& request, std::string_view slug,
             Response& response);
void not_found_page(Response& response);

// Probes (health_route.cpp).
void healthz(Response& response);
void readyz(const RouteContext& ctx, Response& response);

// Links API (links_route.cpp).
void create_link(const RouteContext& ctx, const Request& request, Response& response);
void list_links(const RouteContext& ctx, const Request& request, Response& response);
void get_link(const RouteContext& ctx, const Request& request, std::string_view slug,
              Response& response);
void update_link(const RouteContext& ctx, const Request& request, std::string_view slug,
                 Response& response);
void delete_link(const RouteContext& ctx, const Request& request, std::string_view slug,
                 Response& response);

// Analytics (stats_route.cpp, live_route.cpp).
void link_stats(const RouteContext& ctx, const Request& request, std::string_view slug,
                Response& response);
void account_stats(const RouteContext& ctx, const Request& request, Response& response);
void export_clicks(const RouteContext& ctx, const Request& request, std::string_view slug,
                   Response& response);
void link_live(const RouteContext& ctx, const Request& request, std::string_view slug,
               Response& response);
void account_live(const RouteContext& ctx, const Request& request, Response& response);

// The bearer credential of the request, if any ("Bearer X" -> "X"); Errc::unauthorized for
// another scheme.
Result<std::optional<std::string_view>> bearer_of(const Request& request);

// Who is calling: the bearer key (if any) and the client address (per --trust-proxy).
Result<Caller> caller_of(const RouteContext& ctx, const Request& request);

}  // namespace shortener::http::routes
