// Where the Redis server is and how long anything may take. Parsed from the --redis-url flag.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace shortener {

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // AUTH after connecting when set
  int db = 0;            // SELECT after connecting when non-zero
  // A connect attempt blocks its caller this long at most; then the client backs off.
  std::chrono::milliseconds connect_timeout{300};
  // Every command's reply must arrive within this (plus the BLOCK time of blocking reads).
  std::chrono::milliseconds command_timeout{500};
  // Reconnect backoff after a failure: doubles from min to max; commands fail fast meanwhile.
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
};

// redis://[:password@]host[:port][/db] (also redis://user:password@..., user ignored: Redis 5
// style AUTH). Errc::invalid_input for anything else, including rediss:// (no TLS in hiredis 0.14).
Result<RedisConfig> parse_redis_url(std::string_view url);

// "redis://host:port/db" without the password, for logs.
std::string redacted_url(const RedisConfig& config);

}  // namespace shortener
