// HTTP request metrics: counts by route and status, and a latency histogram per route, fine
// enough to see 50 µs .. 50 ms. Lock-free on the request path (relaxed atomic adds into fixed
// arrays); rendered as Prometheus text on /metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/response.h"

namespace shortener {

class RequestMetrics final : public http::RequestObserver {
 public:
  // Route labels the router sets (Response::route); anything else is counted as "other".
  static constexpr std::array<std::string_view, 17> kRoutes = {
      "redirect", "preview",       "not_found", "web",         "healthz",        "readyz",
      "metrics",  "api_links",     "api_link",  "api_stats",   "api_link_stats", "api_export",
      "api_live", "api_link_live", "api_other", "bad_request", "other"};
  // Upper bounds in seconds (Prometheus `le`).
  static constexpr std::array<double, 14> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                      0.0025,  0.005,  0.01,    0.025,  0.05,
                                                      0.1,     0.25,   1.0,     5.0};

  void observe(std::string_view route, int status, std::chrono::nanoseconds elapsed) override;
  // Appends the Prometheus exposition of every series seen so far.
  void render(std::string& out) const;

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;
  struct RouteSeries {
    std::array<std::atomic<std::uint64_t>, kMaxStatus - kMinStatus + 1> by_status{};
    std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};  // not cumulative
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_ns{0};
  };
  static std::size_t route_index(std::string_view route);

  std::array<RouteSeries, kRoutes.size()> routes_{};
};

}  // namespace shortener
