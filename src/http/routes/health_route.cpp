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
  if (ready) {
    response.set(200, kJson, R"({"status":"ready"})");
  } else {
    response.set(503, kJson, R"({"status":"unavailable"})");
    response.headers.emplace_back("Retry-After", "5");
  }
}

}  // namespace shortener::http::routes
