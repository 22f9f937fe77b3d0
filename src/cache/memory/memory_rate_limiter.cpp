#include "cache/memory/memory_rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace shortener {

namespace {
constexpr auto kSweepInterval = std::chrono::seconds(60);
}

MemoryRateLimiter::MemoryRateLimiter(int per_minute)
    : capacity_(std::max(per_minute, 1)),
      refill_per_second_(capacity_ / 60.0),
      next_sweep_(SteadyClock::now() + kSweepInterval) {}

int MemoryRateLimiter::acquire(std::string_view key) {
  auto now = SteadyClock::now();
  std::lock_guard lock(mutex_);
  if (now >= next_sweep_) sweep(now);
  auto [it, inserted] = buckets_.try_emplace(std::string(key), Bucket{capacity_, now});
  Bucket& bucket = it->second;
  double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(capacity_, bucket.tokens + elapsed * refill_per_second_);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return static_cast<int>(std::ceil((1.0 - bucket.tokens) / refill_per_second_));
}

void MemoryRateLimiter::sweep(SteadyClock::time_point now) {
  auto full_after = std::chrono::duration<double>(capacity_ / refill_per_second_);
  std::erase_if(buckets_,
                [&](const auto& item) { return now - item.second.updated >= full_after; });
  next_sweep_ = now + kSweepInterval;
}

}  // namespace shortener
