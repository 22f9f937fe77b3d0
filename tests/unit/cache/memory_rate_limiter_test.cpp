#include "cache/memory/memory_rate_limiter.h"

#include <gtest/gtest.h>

namespace shortener {
namespace {

TEST(MemoryRateLimiter, AdmitsABurstThenAsksToWait) {
  MemoryRateLimiter limiter(3);
  EXPECT_EQ(limiter.acquire("1.2.3.4"), 0);
  EXPECT_EQ(limiter.acquire("1.2.3.4"), 0);
  EXPECT_EQ(limiter.acquire("1.2.3.4"), 0);
  int wait = limiter.acquire("1.2.3.4");
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 20);  // 3 per minute: one token every 20 s
}

TEST(MemoryRateLimiter, KeysAreIndependent) {
  MemoryRateLimiter limiter(1);
  EXPECT_EQ(limiter.acquire("a"), 0);
  EXPECT_GT(limiter.acquire("a"), 0);
  EXPECT_EQ(limiter.acquire("b"), 0);
}

}  // namespace
}  // namespace shortener
