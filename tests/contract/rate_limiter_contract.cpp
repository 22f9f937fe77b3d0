// The RateLimiter contract: a per-minute token bucket per key (bursts up to the per-minute
// figure, then one every 60/per_minute seconds), shared by every replica.
#include <gtest/gtest.h>

#include <string>

#include "adapter_factories.h"
#include "core/rate_limiter.h"

namespace shortener::contract {
namespace {

constexpr int kRefillSeconds = 60 / kContractPerMinute;

TEST_P(RateLimiterContract, AdmitsABurstThenAnswersTheWait) {
  for (int i = 0; i < kContractPerMinute; ++i) EXPECT_EQ(a().acquire("198.51.100.1"), 0) << i;
  int wait = a().acquire("198.51.100.1");
  EXPECT_GE(wait, kRefillSeconds - 1);
  EXPECT_LE(wait, kRefillSeconds);
}

TEST_P(RateLimiterContract, KeysAreIndependent) {
  for (int i = 0; i < kContractPerMinute; ++i) EXPECT_EQ(a().acquire("198.51.100.1"), 0);
  EXPECT_GT(a().acquire("198.51.100.1"), 0);
  EXPECT_EQ(a().acquire("198.51.100.2"), 0);
  EXPECT_EQ(a().acquire("2001:db8::1"), 0);
}

TEST_P(RateLimiterContract, ADeniedAttemptDoesNotCostAToken) {
  for (int i = 0; i < kContractPerMinute; ++i) EXPECT_EQ(a().acquire("k"), 0);
  int first = a().acquire("k");
  int second = a().acquire("k");
  EXPECT_GT(first, 0);
  EXPECT_LE(second, first);  // waiting longer would mean the refusal consumed something
}

TEST_P(RateLimiterContract, ReplicasShareTheBudget) {
  for (int i = 0; i < kContractPerMinute; ++i)
    EXPECT_EQ((i % 2 == 0 ? a() : b()).acquire("203.0.113.9"), 0) << i;
  EXPECT_GT(a().acquire("203.0.113.9"), 0);
  EXPECT_GT(b().acquire("203.0.113.9"), 0);
}

}  // namespace
}  // namespace shortener::contract
