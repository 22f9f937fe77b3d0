// What only the Redis adapters have, beyond the port contracts: URL parsing, the stored
// encodings, TTLs, cross-replica timing, failing open or as values when Redis is absent, and
// the local spool in front of the click stream.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "adapter_factories.h"
#include "cache/memory/memory_link_cache.h"
#include "cache/redis/redis_link_cache.h"
#include "cache/redis/redis_rate_limiter.h"
#include "cache/redis/tiered_link_cache.h"
#include "queue/memory/memory_click_queue.h"
#include "queue/redis/click_codec.h"
#include "queue/redis/redis_click_queue.h"
#include "queue/redis/spooling_click_queue.h"
#include "redis/redis_client.h"
#include "redis_test_env.h"
#include "temp_dir.h"

namespace shortener::contract {
namespace {

using std::chrono::milliseconds;

#define REDIS_OR_SKIP(config)                                                   \
  auto config = test_redis();                                                   \
  if (!config) {                                                                \
    if (redis_required()) FAIL() << kNoRedis << " (SHORTENER_REQUIRE_REDIS=1)"; \
    GTEST_SKIP() << kNoRedis;                                                   \
  }

// Nothing listens on port 1 (privileged, unused on a test machine): refused at once.
RedisConfig unreachable_redis() {
  RedisConfig config;
  config.port = 1;
  config.connect_timeout = milliseconds(100);
  config.command_timeout = milliseconds(100);
  return config;
}

CachedLinkPtr sample_link(const std::string& slug) {
  return std::make_shared<const CachedLink>(
      CachedLink{.id = 9, .account_id = 3, .slug = slug, .url = "https://example.com/" + slug});
}

TEST(RedisUrl, ParsesTheAcceptedForms) {
  struct Case {
    const char* url;
    const char* host;
    int port;
    const char* password;
    int db;
  };
  for (const Case& c : {Case{"redis://127.0.0.1:6380", "127.0.0.1", 6380, "", 0},
                        Case{"redis://cache.internal", "cache.internal", 6379, "", 0},
                        Case{"redis://:s%40cret@10.0.0.5:7000/3", "10.0.0.5", 7000, "s@cret", 3},
                        Case{"redis://user:pw@h:1/0", "h", 1, "pw", 0},
                        Case{"redis://[::1]:6390/2", "::1", 6390, "", 2}}) {
    auto config = parse_redis_url(c.url);
    ASSERT_TRUE(config) << c.url << ": " << config.error().detail;
    EXPECT_EQ(config->host, c.host) << c.url;
    EXPECT_EQ(config->port, c.port) << c.url;
    EXPECT_EQ(config->password, c.password) << c.url;
    EXPECT_EQ(config->db, c.db) << c.url;
  }
}

TEST(RedisUrl, RejectsEverythingElse) {
  for (const char* url : {"", "redis://", "rediss://h:6379", "http://h", "redis://h:0",
                          "redis://h:65536", "redis://h:port", "redis://h/db",
                          "redis://h:", "redis://:%zz@h", "redis://[::1", "redis://h:6379/-1"}) {
    auto config = parse_redis_url(url);
    EXPECT_FALSE(config) << url;
    if (!config) {
      EXPECT_EQ(config.error().code, Errc::invalid_input);
    }
  }
  EXPECT_EQ(redacted_url(*parse_redis_url("redis://:secret@h:1/2")), "redis://:***@h:1/2");
}

TEST(RedisCodecs, RoundTripAndRejectDamage) {
  CachedLink link{.id = -1,
                  .account_id = 1LL << 40,
                  .slug = "s",
                  .url = "https://e/\xe2\x82\xac",
                  .expires_at = 5,
                  .deleted = true};
  std::string bytes = encode_cached_link(link);
  auto back = decode_cached_link("s", bytes);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->id, -1);
  EXPECT_EQ((*back)->account_id, 1LL << 40);
  EXPECT_EQ((*back)->url, link.url);
  EXPECT_EQ((*back)->expires_at, 5);
  EXPECT_TRUE((*back)->deleted);
  EXPECT_FALSE(decode_cached_link("s", bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_cached_link("s", bytes + "x"));
  EXPECT_EQ(decode_cached_link("s", encode_negative_link()), CachedLinkPtr());

  ClickEvent event{.id = "01J", .link_id = 7, .at = -3, .ip = "::1", .query = std::string(1, '\0')};
  std::string encoded = encode_click_event(event);
  auto decoded = decode_click_event(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->at, -3);
  EXPECT_EQ(decoded->query, event.query);
  for (std::size_t cut = 0; cut < encoded.size(); ++cut)
    EXPECT_FALSE(decode_click_event(encoded.substr(0, cut))) << cut;

  // A batch (one stream entry): every event back, in order; nothing truncated, padded, empty
  // or claiming more events than its bytes could hold decodes.
  std::vector<ClickEvent> batch{event, ClickEvent{.id = "01K", .link_id = -9, .slug = "\xff"}};
  std::string bytes_of_batch = encode_click_batch(batch);
  auto back_batch = decode_click_batch(bytes_of_batch);
  ASSERT_TRUE(back_batch);
  ASSERT_EQ(back_batch->size(), 2u);
  EXPECT_EQ((*back_batch)[0].query, event.query);
  EXPECT_EQ((*back_batch)[1].id, "01K");
  EXPECT_EQ((*back_batch)[1].link_id, -9);
  EXPECT_EQ((*back_batch)[1].slug, "\xff");
  for (std::size_t cut = 0; cut < bytes_of_batch.size(); ++cut)
    EXPECT_FALSE(decode_click_batch(bytes_of_batch.substr(0, cut))) << cut;
  EXPECT_FALSE(decode_click_batch(bytes_of_batch + "x"));
  EXPECT_FALSE(decode_click_batch(encode_click_batch({})));
  EXPECT_FALSE(decode_click_batch(std::string("\x01\xff\xff\xff\xff\x0f", 6)));
  EXPECT_FALSE(decode_click_batch(encoded));  // one event is not a batch
}

TEST(RedisUnavailable, FailuresAreValuesAndFast) {
  RedisClient client(unreachable_redis());
  RedisLinkCache l2(client);
  RedisRateLimiter limiter(client, 1);
  RedisClickQueue queue(client);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(l2.get("abc").outcome, LinkCache::Outcome::miss);
  EXPECT_EQ(limiter.acquire("ip"), 0);  // fails open
  EXPECT_EQ(limiter.acquire("ip"), 0);
  EXPECT_EQ(limiter.failed_open(), 2u);
  std::vector<ClickEvent> events{ClickEvent{.id = "x"}};
  auto pushed = queue.push(std::move(events));
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code, Errc::unavailable);
  EXPECT_EQ(events.size(), 1u);  // still the caller's
  EXPECT_FALSE(client.available());
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
}

TEST(RedisLinkCacheTtl, CreatedKeysLiveADayNegativeOnesSeconds) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string name = unique_name("ttl");
  RedisLinkCache l2(
      client, {.key_prefix = name + ":link:", .version_prefix = name + ":v:", .channel = name});
  TieredLinkCache cache([] { return std::make_unique<MemoryLinkCache>(); }, l2, *config);
  auto lookup = cache.get("created");
  cache.put(sample_link("created"), lookup.ticket);
  auto ttl = client.command({"TTL", name + ":link:created"});
  ASSERT_TRUE(ttl) << ttl.error().detail;
  EXPECT_GE(ttl->integer, 86'000);
  EXPECT_LE(ttl->integer, 86'400);
  auto missing = cache.get("unknown");
  cache.put_negative("unknown", missing.ticket);
  auto negative_ttl = client.command({"TTL", name + ":link:unknown"});
  ASSERT_TRUE(negative_ttl);
  EXPECT_GT(negative_ttl->integer, 0);
  EXPECT_LE(negative_ttl->integer, 30);
}

TEST(TieredLinkCache, AnotherReplicaDropsItsL1WithinOneSecond) {
  REDIS_OR_SKIP(config);
  std::string name = unique_name("tiered");
  RedisLinkCacheOptions options{
      .key_prefix = name + ":link:", .version_prefix = name + ":v:", .channel = name};
  RedisClient client_a(*config), client_b(*config);
  RedisLinkCache l2_a(client_a, options), l2_b(client_b, options);
  auto l1 = [] { return std::make_unique<MemoryLinkCache>(); };
  TieredLinkCache a(l1, l2_a, *config), b(l1, l2_b, *config);
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }, milliseconds(5000)));
  auto lookup = a.get("abc");
  a.put(sample_link("abc"), lookup.ticket);
  ASSERT_EQ(b.get("abc").outcome, LinkCache::Outcome::hit);  // via Redis, now in b's L1
  ASSERT_EQ(b.peek("abc").outcome, LinkCache::Outcome::hit);
  auto start = std::chrono::steady_clock::now();
  a.invalidate("abc");
  ASSERT_TRUE(eventually([&] { return b.peek("abc").outcome == LinkCache::Outcome::miss; },
                         milliseconds(1000)));
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  RecordProperty("invalidation_us", std::to_string(took.count()));
  EXPECT_GE(b.counters().invalidations_received, 1u);
}

TEST(SpoolingClickQueue, SpoolsWhatTheInnerQueueRefusesAndReplaysIt) {
  // The inner queue refuses pushes while `down`, like a RedisClickQueue during an outage.
  struct FlakyQueue final : ClickQueue {
    MemoryClickQueue memory;
    std::atomic<bool> down{true};
    Result<void> push(std::vector<ClickEvent>&& events) override {
      if (down) return fail(Errc::unavailable, "down");
      return memory.push(std::move(events));
    }
    Result<ClickDelivery> pop(std::size_t max, milliseconds wait) override {
      return memory.pop(max, wait);
    }
    Result<void> ack(const ClickDelivery& d) override { return memory.ack(d); }
    void nack(ClickDelivery d) override { memory.nack(std::move(d)); }
    std::size_t size() const override { return memory.size(); }
  } inner;
  TempDir dir;
  auto path = dir.path() / "clicks-redis.spool";
  {
    SpoolingClickQueue spool(inner, path);
    for (int batch = 0; batch < 3; ++batch) {
      std::vector<ClickEvent> events{ClickEvent{.id = "e" + std::to_string(batch) + "a"},
                                     ClickEvent{.id = "e" + std::to_string(batch) + "b"}};
      ASSERT_TRUE(spool.push(std::move(events)));
      EXPECT_TRUE(events.empty());
    }
    EXPECT_EQ(spool.spooled(), 6u);
    spool.replay_once();  // still down: nothing moves
    EXPECT_EQ(spool.spooled(), 6u);
  }
  std::ofstream(path, std::ios::app | std::ios::binary) << "torn";  // a crash mid-append
  SpoolingClickQueue spool(inner, path);
  spool.start();  // a new process: finds the spool
  EXPECT_EQ(spool.spooled(), 6u);
  inner.down = false;
  ASSERT_TRUE(eventually([&] { return spool.spooled() == 0; }, milliseconds(3000)));
  spool.stop();
  EXPECT_EQ(inner.memory.size(), 6u);
  EXPECT_EQ(spool.replayed(), 6u);
  EXPECT_EQ(spool.corrupt_records(), 1u);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace shortener::contract
