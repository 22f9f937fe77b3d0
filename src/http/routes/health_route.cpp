#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "http/routes/routes.h"
#include "http/wire.h"

namespace shortener::http::routes {

void healthz(Response& response) {
  response.set(200, kJson, R"({"status":"ok"})");
  response.cache_control = kNoStore;
}

void readyz(const RouteContext& ctx, Response& response) {
  auto ready = ctx.ready();
  response.cache_control = kNoStore;
  std::string degraded = ctx.degraded ? ctx.degraded() : std::string();
  if (ready && degraded.empty()) {
    response.set(200, kJson, R"({"status":"ready"})");
  } else if (ready) {
    boost::json::object body{{"status", "degraded"}, {"degraded", degraded}};
    response.set(200, kJson, boost::json::serialize(body));
  } else {
    response.set(503, kJson, R"({"status":"unavailable"})");
    response.headers.emplace_back("Retry-After", "5");
  }
}

}  // namespace shortener::http::routes
