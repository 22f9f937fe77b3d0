// Routing: path and method -> one route function. Routes are listed explicitly in router.cpp
// (no registration macros); each is a thin function in routes/ that parses input, calls one
// LinkService use case and maps the result.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/click_ports.h"
#include "core/ip.h"
#include "core/link_service.h"
#include "http/response.h"
#include "http/static_assets.h"

namespace shortener::http {

// What routes need from the rest of the process.
struct RouteContext {
  LinkService& links;
  ClickSink& clicks;  // redirects hand click events here
  StatsStore& stats;
  LiveFeed& live;
  const Clock& clock;
  std::string public_url;  // no trailing slash
  std::vector<Cidr> trusted_proxies;
  std::function<Result<void>()> ready;  // readiness of the stores
  // Empty when every other dependency answers; else what is degraded (the replica still
  // serves: /readyz stays 200 and says so). May be empty.
  std::function<std::string()> degraded;
  std::function<std::string()> metrics;  // Prometheus text exposition
  const StaticAssets* web = nullptr;     // the web app (may serve nothing)
};

class Router final : public RequestHandler {
 public:
  explicit Router(RouteContext context) : context_(std::move(context)) {}
  bool try_handle_fast(const Request& request, Response& response) override;
  void prefetch(const Request& request, PrefetchDone done) override;
  void handle(const Request& request, Response& response) override;

 private:
  void handle_api(const Request& request, Response& response);
  RouteContext context_;
};

}  // namespace shortener::http
