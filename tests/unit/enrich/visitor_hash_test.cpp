#include "worker/enrich/visitor_hash.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace shortener::enrich {
namespace {

// Expected values computed independently with Python's hmac module over the same encoding:
// each field as a 4-byte big-endian length then its bytes; the day in decimal.
TEST(VisitorHashTest, MatchesHmacSha256KnownAnswers) {
  EXPECT_EQ(visitor_hash_hex(unique_visitor_hash("0123456789abcdef-salt", "203.0.113.9",
                                                 "Mozilla/5.0 (X11; Linux x86_64)", 20454)),
            "bc9c1ddf5f606b36");
  // A salt longer than the SHA-256 block is hashed first, as HMAC specifies.
  EXPECT_EQ(
      visitor_hash_hex(unique_visitor_hash(std::string(100, 's'), "2001:db8::1", "curl/8.5.0", 0)),
      "ed286f3e72686521");
  EXPECT_EQ(visitor_hash_hex(unique_visitor_hash("", "", "", -1)), "f18a43c3e7075cce");
}

TEST(VisitorHashTest, EveryInputChangesTheKey) {
  const VisitorHasher hasher("a-secret-salt-of-16+");
  const auto base = hasher.hash("198.51.100.7", "UA", 20000);
  EXPECT_EQ(hasher.hash("198.51.100.7", "UA", 20000), base);
  EXPECT_NE(hasher.hash("198.51.100.8", "UA", 20000), base);
  EXPECT_NE(hasher.hash("198.51.100.7", "UA2", 20000), base);
  EXPECT_NE(hasher.hash("198.51.100.7", "UA", 20001), base);
  EXPECT_NE(VisitorHasher("another-salt-of-16+").hash("198.51.100.7", "UA", 20000), base);
  // Field boundaries are part of the message.
  EXPECT_NE(hasher.hash("ab", "c", 1), hasher.hash("a", "bc", 1));
}

TEST(VisitorHashTest, HasherIsThreadSafe) {
  const VisitorHasher hasher("a-secret-salt-of-16+");
  const auto expected = hasher.hash("192.0.2.1", "Mozilla/5.0", 19999);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i)
        wrong[t] += hasher.hash("192.0.2.1", "Mozilla/5.0", 19999) != expected;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0);
}

TEST(VisitorHashTest, HexIsSixteenLowerCaseDigits) {
  EXPECT_EQ(visitor_hash_hex(0), "0000000000000000");
  EXPECT_EQ(visitor_hash_hex(0xfedcba9876543210ULL), "fedcba9876543210");
}

}  // namespace
}  // namespace shortener::enrich
