#include "cache/redis/redis_rate_limiter.h"

#include <algorithm>

namespace shortener {

namespace {

constexpr std::int64_t kMinuteUs = 60'000'000;

// GCRA. KEYS[1]: the client's key. ARGV: emission interval T and tolerance tau, in µs.
// Admit when tat - now <= tau (at least one token left); then tat += T. Denied: the wait until
// that holds again, rounded up to whole seconds. Microseconds since the epoch fit a Lua double
// exactly (< 2^53).
const RedisScript& gcra_script() {
  static const RedisScript script(R"lua(
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return math.ceil(wait / 1000000) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return 0
)lua");
  return script;
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisClient& client, int per_minute, std::string key_prefix)
    : client_(client), key_prefix_(std::move(key_prefix)) {
  std::int64_t capacity = std::max(per_minute, 1);
  std::int64_t interval = kMinuteUs / capacity;
  interval_us_ = std::to_string(interval);
  tolerance_us_ = std::to_string(interval * (capacity - 1));
}

int RedisRateLimiter::acquire(std::string_view key) {
  std::string redis_key = key_prefix_ + std::string(key);
  auto wait = client_.eval(gcra_script(), {redis_key}, {interval_us_, tolerance_us_});
  if (!wait || !as_integer(*wait)) {
    failed_open_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  return static_cast<int>(*as_integer(*wait));
}

}  // namespace shortener
