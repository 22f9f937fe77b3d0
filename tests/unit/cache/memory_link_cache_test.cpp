#include "cache/memory/memory_link_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace shortener {
namespace {

CachedLinkPtr link(std::string slug, std::string url = "https://example.com/") {
  return std::make_shared<const CachedLink>(
      CachedLink{.id = 1, .slug = std::move(slug), .url = std::move(url)});
}

using Outcome = LinkCache::Outcome;

TEST(MemoryLinkCache, MissThenHitReturnsTheSameObject) {
  MemoryLinkCache cache;
  auto first = cache.get("abc");
  EXPECT_EQ(first.outcome, Outcome::miss);
  auto value = link("abc");
  cache.put(value, first.ticket);
  auto second = cache.get("abc");
  ASSERT_EQ(second.outcome, Outcome::hit);
  EXPECT_EQ(second.link.get(), value.get());  // a hit copies a pointer, not the URL
  EXPECT_EQ(cache.counters().hits, 1u);
  EXPECT_EQ(cache.counters().misses, 1u);
}

TEST(MemoryLinkCache, RecheckAnswersLikeGetButIsNotCounted) {
  MemoryLinkCache cache;
  auto miss = cache.get("abc");  // counted: the first look
  auto again = cache.recheck("abc");
  EXPECT_EQ(again.outcome, Outcome::miss);
  EXPECT_EQ(again.ticket, miss.ticket);  // its ticket works for the put
  cache.put(link("abc"), again.ticket);
  cache.put_negative("gone", cache.recheck("gone").ticket);
  EXPECT_EQ(cache.recheck("abc").outcome, Outcome::hit);
  EXPECT_EQ(cache.recheck("gone").outcome, Outcome::negative);
  auto counters = cache.counters();
  EXPECT_EQ(counters.misses, 1u);
  EXPECT_EQ(counters.hits, 0u);
  EXPECT_EQ(counters.negative_hits, 0u);
  EXPECT_EQ(counters.entries, 2u);
}

TEST(MemoryLinkCache, SlugsAreCaseSensitive) {
  MemoryLinkCache cache;
  cache.put(link("abc"), cache.get("abc").ticket);
  EXPECT_EQ(cache.get("ABC").outcome, Outcome::miss);
}

TEST(MemoryLinkCache, NegativeEntriesAnswerWithoutTheStore) {
  MemoryLinkCache cache;
  cache.put_negative("nope", cache.get("nope").ticket);
  EXPECT_EQ(cache.get("nope").outcome, Outcome::negative);
  EXPECT_EQ(cache.counters().negative_hits, 1u);
}

TEST(MemoryLinkCache, NegativeEntriesExpireQuickly) {
  MemoryLinkCache cache(MemoryLinkCacheOptions{.negative_ttl = std::chrono::seconds(0)});
  cache.put_negative("nope", cache.get("nope").ticket);
  EXPECT_EQ(cache.get("nope").outcome, Outcome::miss);
}

TEST(MemoryLinkCache, PositiveEntriesExpireAfterTtl) {
  MemoryLinkCache cache(MemoryLinkCacheOptions{.ttl = std::chrono::seconds(0)});
  cache.put(link("abc"), cache.get("abc").ticket);
  EXPECT_EQ(cache.get("abc").outcome, Outcome::miss);
}

TEST(MemoryLinkCache, InvalidateRemovesTheEntry) {
  MemoryLinkCache cache;
  cache.put(link("abc"), cache.get("abc").ticket);
  cache.invalidate("abc");
  EXPECT_EQ(cache.get("abc").outcome, Outcome::miss);
}

TEST(MemoryLinkCache, PutAfterInvalidationSinceTheMissIsIgnored) {
  // A redirect misses, reads the old URL from the store; meanwhile a PATCH invalidates. The
  // slow reader's put must not bring the old URL back.
  MemoryLinkCache cache;
  auto miss = cache.get("abc");
  cache.invalidate("abc");
  cache.put(link("abc", "https://old.example/"), miss.ticket);
  EXPECT_EQ(cache.get("abc").outcome, Outcome::miss);
}

TEST(MemoryLinkCache, NegativeEntryIsReplacedByARealLink) {
  MemoryLinkCache cache;
  cache.put_negative("abc", cache.get("abc").ticket);
  cache.invalidate("abc");  // what LinkService::create does
  auto miss = cache.get("abc");
  cache.put(link("abc"), miss.ticket);
  EXPECT_EQ(cache.get("abc").outcome, Outcome::hit);
}

TEST(MemoryLinkCache, EvictsLeastRecentlyUsedBeyondEntryLimit) {
  MemoryLinkCache cache(MemoryLinkCacheOptions{.max_entries = 2, .shards = 1});
  cache.put(link("a"), cache.get("a").ticket);
  cache.put(link("b"), cache.get("b").ticket);
  EXPECT_EQ(cache.get("a").outcome, Outcome::hit);  // a is now most recent
  cache.put(link("c"), cache.get("c").ticket);
  EXPECT_EQ(cache.get("b").outcome, Outcome::miss);
  EXPECT_EQ(cache.get("a").outcome, Outcome::hit);
  EXPECT_EQ(cache.get("c").outcome, Outcome::hit);
  EXPECT_EQ(cache.counters().evictions, 1u);
}

TEST(MemoryLinkCache, EvictsBeyondByteLimit) {
  MemoryLinkCache cache(
      MemoryLinkCacheOptions{.max_entries = 1000, .max_bytes = 2000, .shards = 1});
  for (int i = 0; i < 20; ++i) {
    std::string slug = "s" + std::to_string(i);
    cache.put(link(slug, "https://example.com/" + std::string(500, 'x')), cache.get(slug).ticket);
  }
  auto counters = cache.counters();
  EXPECT_LE(counters.bytes, 2000u);
  EXPECT_GE(counters.entries, 1u);
  EXPECT_EQ(cache.get("s19").outcome, Outcome::hit);
}

TEST(MemoryLinkCache, ConcurrentReadersAndWritersStayConsistent) {
  MemoryLinkCache cache(MemoryLinkCacheOptions{.max_entries = 512, .shards = 8});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 20000; ++i) {
        std::string slug = "k" + std::to_string((i * 7 + t) % 1000);
        auto found = cache.get(slug);
        if (found.outcome == Outcome::miss) {
          cache.put(link(slug), found.ticket);
        } else if (found.outcome == Outcome::hit) {
          ASSERT_EQ(found.link->slug, slug);
        }
        if (i % 97 == 0) cache.invalidate(slug);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.counters().entries, 512u);
}

}  // namespace
}  // namespace shortener
