// The Redis client every adapter shares: a small pool of synchronous connections.
//
// Why synchronous (hiredis's blocking API) and not its async context on Asio: every Redis call
// here already runs off the event loop (the redirect path consults Redis only on an L1 miss, on
// the HTTP server's blocking pool; the shipper, workers and subscribers have their own threads),
// so blocking a thread for one loopback round trip (~50-100 µs) costs nothing the event loop
// would feel, while hiredis 0.14's async context has no timeouts and would need our own timers,
// reconnect state machine and cross-thread hand-off. Blocking sockets give timeouts for free
// (SO_RCVTIMEO), a failure is a plain return value, and a broken connection is dropped and
// replaced on next use.
//
// Failure handling: a command that cannot get a reply in time returns Errc::unavailable. After a
// failed connect the client backs off (doubling, bounded) and fails commands fast until the
// next probe, so a Redis outage costs callers nothing but the error value.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "redis/redis_connection.h"

namespace shortener {

struct RedisCounters {
  std::uint64_t commands = 0;          // round trips attempted (a pipeline counts once)
  std::uint64_t failures = 0;          // round trips that failed: unavailable or timed out
  std::uint64_t connects = 0;          // connections opened
  std::uint64_t connect_failures = 0;  // connect attempts that failed
};

// A Lua script run with EVALSHA; loaded again by EVAL when the server forgot it (restart).
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

class RedisClient {
 public:
  // max_connections: connections opened at most; a caller waits for a free one up to the
  // command timeout. Size it to the threads that call concurrently (workers + shipper + a few).
  explicit RedisClient(RedisConfig config, std::size_t max_connections = 8);
  ~RedisClient();

  // One command. Error replies become failures: Errc::unavailable for the transient ones
  // (LOADING, BUSY, TRYAGAIN, MASTERDOWN, READONLY), Errc::internal otherwise, with the
  // server's message in the detail (see is_redis_error).
  Result<RedisValue> command(const RedisArgs& args, std::chrono::milliseconds extra = {});
  // Several commands in one round trip; error replies stay values, in order.
  Result<std::vector<RedisValue>> pipeline(std::span<const RedisArgs> commands,
                                           std::chrono::milliseconds extra = {});
  Result<RedisValue> eval(const RedisScript& script, const RedisArgs& keys, const RedisArgs& args);

  // False while backing off after a failure (what /readyz reports as degraded).
  bool available() const { return available_.load(std::memory_order_relaxed); }
  RedisCounters counters() const;
  // Appends shortener_redis_command_seconds: round-trip time of non-blocking calls (blocking
  // reads, which wait for entries on purpose, are left out).
  void render_latency(std::string& out) const;
  const RedisConfig& config() const { return config_; }

 private:
  class Lease;
  Result<std::unique_ptr<RedisConnection>> acquire();
  void release(std::unique_ptr<RedisConnection> connection);
  Result<std::vector<RedisValue>> run(std::span<const RedisArgs> commands,
                                      std::chrono::milliseconds extra);

  RedisConfig config_;
  std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  std::size_t open_ = 0;  // idle + lent out + being connected
  bool probing_ = false;  // one thread tries to reconnect while down; the others fail fast
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::atomic<bool> available_{true};
  std::atomic<std::uint64_t> commands_{0}, failures_{0}, connects_{0}, connect_failures_{0};
  metrics::Histogram<11> latency_{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5}};
};

// Whether a failure carries the given Redis error code (e.g. "NOSCRIPT", "BUSYGROUP").
bool is_redis_error(const Error& error, std::string_view code);

// Conversions for replies whose shape the caller knows.
std::optional<long long> as_integer(const RedisValue& value);

}  // namespace shortener
