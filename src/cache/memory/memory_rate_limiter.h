// In-process token-bucket rate limiter keyed by client address. Buckets idle long enough to be
// full again are dropped, so memory stays bounded by the number of recently active clients.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/rate_limiter.h"

namespace shortener {

class MemoryRateLimiter final : public RateLimiter {
 public:
  using SteadyClock = std::chrono::steady_clock;
  // `per_minute` tokens refill over a minute; a burst of up to `per_minute` is allowed.
  explicit MemoryRateLimiter(int per_minute);
  int acquire(std::string_view key) override;

 private:
  struct Bucket {
    double tokens;
    SteadyClock::time_point updated;
  };
  void sweep(SteadyClock::time_point now);

  double capacity_;
  double refill_per_second_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  SteadyClock::time_point next_sweep_;
};

}  // namespace shortener
