// RateLimiter shared by every replica: the same token bucket as MemoryRateLimiter (per_minute
// tokens, refilled evenly over a minute, bursts up to per_minute), kept in Redis as GCRA: one
// key per client, `ratelimit:{ip}`, holding its theoretical arrival time, updated by a Lua
// script so check-and-take is atomic across replicas. The script reads the server's clock, so
// replicas with skewed clocks still agree.
//
// On a Redis failure acquire() admits (fails open) and counts it: anonymous creation stays
// available during an outage, limited meanwhile only by each replica's other defences; a
// limiter outage must not become a creation outage.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/rate_limiter.h"
#include "redis/redis_client.h"

namespace shortener {

class RedisRateLimiter final : public RateLimiter {
 public:
  RedisRateLimiter(RedisClient& client, int per_minute, std::string key_prefix = "ratelimit:");
  int acquire(std::string_view key) override;

  // Admissions granted because Redis could not be asked.
  std::uint64_t failed_open() const { return failed_open_.load(std::memory_order_relaxed); }

 private:
  RedisClient& client_;
  std::string key_prefix_;
  std::string interval_us_;   // one token's refill time
  std::string tolerance_us_;  // how far ahead of now the arrival time may run: the burst
  std::atomic<std::uint64_t> failed_open_{0};
};

}  // namespace shortener
