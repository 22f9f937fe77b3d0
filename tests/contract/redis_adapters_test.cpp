// What only the Redis adapters have, beyond the port contracts: URL parsing, the stored
// encodings, TTLs, cross-replica timing, failing open or as values when Redis is absent, and
// the local spool in front of the click stream.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>

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

// Two replicas' caches (each its own Redis client, L2 and L1) on one Redis, under a prefix of
// their own.
struct TwoReplicas {
  TwoReplicas(const RedisConfig& config, const std::string& prefix)
      : name(unique_name(prefix)),
        options{.key_prefix = name + ":link:", .version_prefix = name + ":v:", .channel = name},
        client_a(config),
        client_b(config),
        l2_a(client_a, options),
        l2_b(client_b, options),
        a(&make_l1, l2_a, config),
        b(&make_l1, l2_b, config) {}
  static std::unique_ptr<LinkCache> make_l1() { return std::make_unique<MemoryLinkCache>(); }

  std::string name;
  RedisLinkCacheOptions options;
  RedisClient client_a, client_b;
  RedisLinkCache l2_a, l2_b;
  TieredLinkCache a, b;
};

TEST(TieredLinkCache, AnotherReplicaDropsItsL1WithinOneSecond) {
  REDIS_OR_SKIP(config);
  TwoReplicas replicas(*config, "tiered");
  TieredLinkCache& a = replicas.a;
  TieredLinkCache& b = replicas.b;
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

// prefetch() and waits for its lookup (it completes on the prefetcher's thread).
LinkCache::Lookup prefetched(LinkCache& cache, std::string_view slug) {
  std::promise<LinkCache::Lookup> promise;
  auto future = promise.get_future();
  cache.prefetch(slug, [&promise](LinkCache::Lookup lookup) { promise.set_value(lookup); });
  EXPECT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  return future.get();
}

TEST(TieredLinkCache, PrefetchAnswersFromRedisAndFillsTheL1) {
  REDIS_OR_SKIP(config);
  TwoReplicas replicas(*config, "prefetch");
  TieredLinkCache& a = replicas.a;
  TieredLinkCache& b = replicas.b;
  b.start();
  // Replica a stores a link and a negative entry in Redis; b's L1 has neither.
  a.put(sample_link("known"), a.get("known").ticket);
  a.put_negative("gone404", a.get("gone404").ticket);
  ASSERT_EQ(b.peek("known").outcome, LinkCache::Outcome::miss);

  auto hit = prefetched(b, "known");
  ASSERT_EQ(hit.outcome, LinkCache::Outcome::hit);
  EXPECT_EQ(hit.link->url, "https://example.com/known");
  EXPECT_EQ(hit.link->id, 9);
  EXPECT_EQ(b.peek("known").outcome, LinkCache::Outcome::hit);  // kept for the next redirect

  EXPECT_EQ(prefetched(b, "gone404").outcome, LinkCache::Outcome::negative);
  EXPECT_EQ(b.peek("gone404").outcome, LinkCache::Outcome::negative);

  // Not in Redis: a miss, nothing cached (the blocking path reads the store and puts it).
  EXPECT_EQ(prefetched(b, "nowhere").outcome, LinkCache::Outcome::miss);
  EXPECT_EQ(b.peek("nowhere").outcome, LinkCache::Outcome::miss);

  // Already in the L1: answered without a Redis read.
  auto counters = b.counters();
  EXPECT_EQ(prefetched(b, "known").outcome, LinkCache::Outcome::hit);
  EXPECT_EQ(b.counters().l2_hits, counters.l2_hits);
  EXPECT_EQ(b.counters().prefetch.rejected, 0u);
  EXPECT_GE(b.counters().prefetch.batches, 4u);
}

TEST(TieredLinkCache, ManyPrefetchesShareRoundTripsAndEachGetsItsOwnLink) {
  REDIS_OR_SKIP(config);
  std::string name = unique_name("prefetch-many");
  RedisLinkCacheOptions options{
      .key_prefix = name + ":link:", .version_prefix = name + ":v:", .channel = name};
  RedisClient client(*config);
  RedisLinkCache l2(client, options);
  constexpr int kLinks = 300;
  {
    TieredLinkCache writer([] { return std::make_unique<MemoryLinkCache>(); }, l2, *config);
    for (int i = 0; i < kLinks; ++i) {
      std::string slug = "s" + std::to_string(i);
      writer.put(sample_link(slug), writer.get(slug).ticket);
    }
  }
  TieredLinkCache cache([] { return std::make_unique<MemoryLinkCache>(); }, l2, *config,
                        {.prefetch_batch = 64});
  cache.start();
  std::mutex mutex;
  std::vector<std::pair<std::string, LinkCache::Lookup>> results;
  std::atomic<int> completed{0};
  // Every slug twice, submitted at once: duplicates in a batch are asked for once.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kLinks; ++i) {
      std::string slug = "s" + std::to_string(i);
      cache.prefetch(slug, [&, slug](LinkCache::Lookup lookup) {
        std::lock_guard lock(mutex);
        results.emplace_back(slug, std::move(lookup));
        completed.fetch_add(1);
      });
    }
  }
  ASSERT_TRUE(eventually([&] { return completed.load() == 2 * kLinks; }, milliseconds(5000)));
  std::lock_guard lock(mutex);
  ASSERT_EQ(results.size(), 2u * kLinks);
  for (const auto& [slug, lookup] : results) {
    ASSERT_EQ(lookup.outcome, LinkCache::Outcome::hit) << slug;
    EXPECT_EQ(lookup.link->slug, slug);
    EXPECT_EQ(lookup.link->url, "https://example.com/" + slug);
  }
  auto counters = cache.counters().prefetch;
  EXPECT_LT(counters.batches, static_cast<std::uint64_t>(kLinks));  // shared round trips
  EXPECT_LE(counters.requests, 2u * kLinks);
  EXPECT_EQ(counters.rejected, 0u);
}

TEST(TieredLinkCache, PrefetchWithRedisDownIsAPromptMiss) {
  RedisClient client(unreachable_redis());
  RedisLinkCache l2(client);
  TieredLinkCache cache([] { return std::make_unique<MemoryLinkCache>(); }, l2,
                        unreachable_redis());
  cache.start();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(prefetched(cache, "abc").outcome, LinkCache::Outcome::miss);
  EXPECT_EQ(prefetched(cache, "abc").outcome, LinkCache::Outcome::miss);  // backing off: fast
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_GE(cache.counters().l2_errors, 1u);
  cache.stop();
  // Stopped: declined at once, still exactly one completion.
  EXPECT_EQ(prefetched(cache, "abc").outcome, LinkCache::Outcome::miss);
  EXPECT_GE(cache.counters().prefetch.rejected, 1u);
}

TEST(RedisLinkCache, FetchManyAnswersLikeFetchInOrder) {
  REDIS_OR_SKIP(config);
  std::string name = unique_name("fetch-many");
  RedisClient client(*config);
  RedisLinkCache l2(
      client, {.key_prefix = name + ":link:", .version_prefix = name + ":v:", .channel = name});
  ASSERT_TRUE(l2.store(*sample_link("a"), 0));
  ASSERT_TRUE(l2.store_negative("n", 0));
  ASSERT_TRUE(l2.remove("gone"));  // version 1, no value
  ASSERT_TRUE(client.command({"SET", name + ":link:junk", "\x7fnot a link"}));
  std::string_view slugs[] = {"n", "missing", "a", "gone", "junk"};
  auto many = l2.fetch_many(slugs);
  ASSERT_TRUE(many) << many.error().detail;
  ASSERT_EQ(many->size(), 5u);
  EXPECT_EQ((*many)[0].outcome, LinkCache::Outcome::negative);
  EXPECT_EQ((*many)[1].outcome, LinkCache::Outcome::miss);
  ASSERT_EQ((*many)[2].outcome, LinkCache::Outcome::hit);
  EXPECT_EQ((*many)[2].link->slug, "a");
  EXPECT_EQ((*many)[3].outcome, LinkCache::Outcome::miss);
  EXPECT_EQ((*many)[3].version, 1);
  EXPECT_EQ((*many)[4].outcome, LinkCache::Outcome::miss);  // undecodable: absent, counted
  EXPECT_GE(l2.counters().errors, 1u);
  for (std::size_t i = 0; i < std::size(slugs); ++i) {
    auto one = l2.fetch(slugs[i]);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->outcome, (*many)[i].outcome) << slugs[i];
    EXPECT_EQ(one->version, (*many)[i].version) << slugs[i];
  }
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
