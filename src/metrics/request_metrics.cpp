#include "metrics/request_metrics.h"

#include <algorithm>
#include <cstdio>

namespace shortener {

std::size_t RequestMetrics::route_index(std::string_view route) {
  for (std::size_t i = 0; i < kRoutes.size(); ++i)
    if (kRoutes[i] == route) return i;
  return kRoutes.size() - 1;  // "other"
}

void RequestMetrics::observe(std::string_view route, int status, std::chrono::nanoseconds elapsed) {
  RouteSeries& series = routes_[route_index(route)];
  int clamped = std::clamp(status, kMinStatus, kMaxStatus);
  series.by_status[clamped - kMinStatus].fetch_add(1, std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(elapsed).count();
  auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
  if (bucket < static_cast<std::ptrdiff_t>(kBuckets.size()))
    series.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  series.count.fetch_add(1, std::memory_order_relaxed);
  series.sum_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void RequestMetrics::render(std::string& out) const {
  char line[256];
  out += "# HELP shortener_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE shortener_http_requests_total counter\n";
  for (std::size_t r = 0; r < kRoutes.size(); ++r) {
    for (int s = kMinStatus; s <= kMaxStatus; ++s) {
      auto n = routes_[r].by_status[s - kMinStatus].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::snprintf(line, sizeof line,
                    "shortener_http_requests_total{route=\"%.*s\",status=\"%d\"} %llu\n",
                    static_cast<int>(kRoutes[r].size()), kRoutes[r].data(), s,
                    static_cast<unsigned long long>(n));
      out += line;
    }
  }
  out +=
      "# HELP shortener_http_request_duration_seconds Time from a complete request to its "
      "response written, by route.\n";
  out += "# TYPE shortener_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < kRoutes.size(); ++r) {
    const RouteSeries& series = routes_[r];
    auto count = series.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    auto route = kRoutes[r];
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += series.buckets[b].load(std::memory_order_relaxed);
      std::snprintf(line, sizeof line,
                    "shortener_http_request_duration_seconds_bucket{route=\"%.*s\",le=\"%g\"} "
                    "%llu\n",
                    static_cast<int>(route.size()), route.data(), kBuckets[b],
                    static_cast<unsigned long long>(cumulative));
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "shortener_http_request_duration_seconds_bucket{route=\"%.*s\",le=\"+Inf\"} "
                  "%llu\nshortener_http_request_duration_seconds_sum{route=\"%.*s\"} %.9f\n"
                  "shortener_http_request_duration_seconds_count{route=\"%.*s\"} %llu\n",
                  static_cast<int>(route.size()), route.data(),
                  static_cast<unsigned long long>(count), static_cast<int>(route.size()),
                  route.data(), series.sum_ns.load(std::memory_order_relaxed) / 1e9,
                  static_cast<int>(route.size()), route.data(),
                  static_cast<unsigned long long>(count));
    out += line;
  }
}

}  // namespace shortener
