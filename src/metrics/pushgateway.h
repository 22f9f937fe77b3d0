// Pushes a Prometheus text exposition to a Pushgateway (PUT /metrics/job/<job>/instance/<id>),
// for worker processes a scraper cannot reach. A tiny blocking HTTP/1.1 client on a plain
// socket: one request per push, bounded by a timeout, no keep-alive (a push every few seconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace shortener::metrics {

struct PushTarget {
  std::string host;
  std::uint16_t port = 9091;
  std::string path_prefix;  // without a trailing slash ("" or e.g. "/pushgateway")
};

// http://HOST[:PORT][/PATH]; Errc::invalid_input otherwise (no https: put a sidecar in front).
Result<PushTarget> parse_push_url(std::string_view url);

// Replaces the group job/instance with `exposition`. Errc::unavailable when the gateway cannot
// be reached or answers other than 2xx (the answer's status line is in the detail).
Result<void> push(const PushTarget& target, std::string_view job, std::string_view instance,
                  std::string_view exposition,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace shortener::metrics
