// The HTTP access log (--access-log): one info line per answered request on its own spdlog
// logger. It records the method, the path without its query string (queries can carry tokens),
// status, duration, body bytes, client and peer address, route, a truncated user agent and the
// request id; never Authorization, cookies or the query.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.h"
#include "http/response.h"

namespace shortener::logging {

enum class Format { text, json };

// Longest path and user agent written (bytes, cut at a character boundary): enough to tell
// requests apart, not enough for one client to flood the log.
inline constexpr std::size_t kMaxLoggedPath = 1024;
inline constexpr std::size_t kMaxLoggedUserAgent = 256;

struct AccessEntry {
  std::string_view request_id;
  std::string_view method;
  std::string_view path;  // without the query
  int status = 0;
  std::int64_t duration_us = 0;
  std::size_t bytes = 0;
  IpAddress client;  // after trusted proxies (X-Forwarded-For)
  IpAddress peer;    // the TCP peer
  std::string_view route;
  std::string_view user_agent;
};

// The line for `entry`, appended to `out`. json: the members after "logger" for
// JsonFormatter's fields payload ("msg":"request","request_id":...). text: key=value pairs,
// free text quoted and escaped as JSON strings, so a line stays one line.
void render_access_entry(Format format, const AccessEntry& entry, std::string& out);

// `text` cut to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view truncate_utf8(std::string_view text, std::size_t limit);

class SpdlogAccessLog final : public http::AccessLog {
 public:
  SpdlogAccessLog(std::shared_ptr<spdlog::logger> logger, Format format,
                  std::vector<Cidr> trusted_proxies);
  void record(const http::Request& request, const http::Response& response,
              std::chrono::nanoseconds elapsed, std::size_t body_bytes) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
  Format format_;
  std::vector<Cidr> trusted_proxies_;
};

}  // namespace shortener::logging
