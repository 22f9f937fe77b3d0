// The LinkCache contract: what every cache level must do, as core/ports.h promises it, and
// what a second replica sees of the first one's writes and invalidations.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "adapter_factories.h"
#include "core/ports.h"

namespace shortener::contract {
namespace {

CachedLinkPtr link(const std::string& slug, std::string url = "https://example.com/") {
  return std::make_shared<const CachedLink>(CachedLink{.id = 42,
                                                       .account_id = 7,
                                                       .slug = slug,
                                                       .url = std::move(url) + slug,
                                                       .expires_at = 1'767'225'600'000'000,
                                                       .deleted = false});
}
// Fills a cache the way a redirect does: a miss, a store read, a put with the miss's ticket.
void fill(LinkCache& cache, const CachedLinkPtr& value) {
  auto lookup = cache.get(value->slug);
  ASSERT_EQ(lookup.outcome, LinkCache::Outcome::miss);
  cache.put(value, lookup.ticket);
}

TEST_P(LinkCacheContract, MissThenPutThenHitWithEveryField) {
  fill(a(), link("abc"));
  auto hit = a().get("abc");
  ASSERT_EQ(hit.outcome, LinkCache::Outcome::hit);
  EXPECT_EQ(hit.link->id, 42);
  EXPECT_EQ(hit.link->account_id, 7);
  EXPECT_EQ(hit.link->slug, "abc");
  EXPECT_EQ(hit.link->url, "https://example.com/abc");
  EXPECT_EQ(hit.link->expires_at, 1'767'225'600'000'000);
  EXPECT_FALSE(hit.link->deleted);
  EXPECT_EQ(a().get("other").outcome, LinkCache::Outcome::miss);
}

TEST_P(LinkCacheContract, DeletedLinksWithoutExpiryRoundTrip) {
  auto deleted = std::make_shared<const CachedLink>(CachedLink{.id = 1,
                                                               .account_id = 0,
                                                               .slug = "gone",
                                                               .url = "https://x.test/",
                                                               .expires_at = std::nullopt,
                                                               .deleted = true});
  fill(a(), deleted);
  auto hit = a().get("gone");
  ASSERT_EQ(hit.outcome, LinkCache::Outcome::hit);
  EXPECT_TRUE(hit.link->deleted);
  EXPECT_EQ(hit.link->expires_at, std::nullopt);
}

TEST_P(LinkCacheContract, NegativeEntriesAnswerNegative) {
  auto lookup = a().get("nope");
  ASSERT_EQ(lookup.outcome, LinkCache::Outcome::miss);
  a().put_negative("nope", lookup.ticket);
  EXPECT_EQ(a().get("nope").outcome, LinkCache::Outcome::negative);
}

TEST_P(LinkCacheContract, InvalidateDropsTheEntry) {
  fill(a(), link("abc"));
  a().invalidate("abc");
  EXPECT_EQ(a().get("abc").outcome, LinkCache::Outcome::miss);
}

TEST_P(LinkCacheContract, InvalidationBetweenMissAndPutWins) {
  auto lookup = a().get("abc");
  ASSERT_EQ(lookup.outcome, LinkCache::Outcome::miss);
  a().invalidate("abc");  // a PATCH landed while the store read was in flight
  a().put(link("abc", "https://old.example/"), lookup.ticket);
  EXPECT_EQ(a().get("abc").outcome, LinkCache::Outcome::miss);
}

TEST_P(LinkCacheContract, AnotherReplicasInvalidationOvertakesAPut) {
  auto lookup = a().get("abc");
  ASSERT_EQ(lookup.outcome, LinkCache::Outcome::miss);
  b().invalidate("abc");
  a().put(link("abc", "https://old.example/"), lookup.ticket);
  // Neither replica may keep serving the overtaken value (a's L1 drops it when b's
  // invalidation arrives).
  EXPECT_NE(b().get("abc").outcome, LinkCache::Outcome::hit);
  EXPECT_TRUE(eventually([&] { return a().get("abc").outcome != LinkCache::Outcome::hit; },
                         std::chrono::milliseconds(1000)));
}

TEST_P(LinkCacheContract, AnotherReplicaSeesAPut) {
  fill(a(), link("shared"));
  auto seen = b().get("shared");
  ASSERT_EQ(seen.outcome, LinkCache::Outcome::hit);
  EXPECT_EQ(seen.link->url, "https://example.com/shared");
}

TEST_P(LinkCacheContract, InvalidationReachesAnotherReplicaWithinOneSecond) {
  fill(a(), link("abc"));
  ASSERT_EQ(b().get("abc").outcome, LinkCache::Outcome::hit);  // now in b's own L1 too
  a().invalidate("abc");
  EXPECT_TRUE(eventually([&] { return b().get("abc").outcome == LinkCache::Outcome::miss; },
                         std::chrono::milliseconds(1000)));
}

TEST_P(LinkCacheContract, NewPutAfterInvalidationIsServed) {
  fill(a(), link("abc"));
  a().invalidate("abc");
  fill(a(), link("abc", "https://new.example/"));
  auto hit = a().get("abc");
  ASSERT_EQ(hit.outcome, LinkCache::Outcome::hit);
  EXPECT_EQ(hit.link->url, "https://new.example/abc");
}

}  // namespace
}  // namespace shortener::contract
