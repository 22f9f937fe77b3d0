#include <gtest/gtest.h>

#include <atomic>

#include "live/memory/memory_live_feed.h"

namespace shortener {
namespace {

EnrichedClick click(std::string id, std::int64_t link, std::int64_t account) {
  return EnrichedClick{.id = std::move(id), .link_id = link, .account_id = account};
}

TEST(MemoryLiveFeed, DeliversMatchingClicksAndWakes) {
  MemoryLiveFeed feed;
  std::atomic<int> wakes{0};
  auto by_link = feed.subscribe({.link_id = 1, .account_id = std::nullopt}, [&] { ++wakes; });
  auto by_account = feed.subscribe({.link_id = std::nullopt, .account_id = 9}, [&] { ++wakes; });
  feed.publish({click("a", 1, 9), click("b", 2, 9), click("c", 3, 8)});
  auto link_events = by_link->drain();
  ASSERT_EQ(link_events.size(), 1u);
  EXPECT_EQ(link_events[0]->id, "a");
  EXPECT_EQ(by_account->drain().size(), 2u);
  EXPECT_EQ(wakes.load(), 2);
  EXPECT_TRUE(by_link->drain().empty());
}

TEST(MemoryLiveFeed, SlowSubscriberIsDroppedNotBufferedWithoutBound) {
  MemoryLiveFeed feed(3);
  auto sub = feed.subscribe({}, [] {});
  feed.publish({click("a", 1, 1), click("b", 1, 1), click("c", 1, 1), click("d", 1, 1)});
  EXPECT_TRUE(sub->dropped());
  EXPECT_TRUE(sub->drain().empty());
}

TEST(MemoryLiveFeed, UnsubscribesOnDestruction) {
  MemoryLiveFeed feed;
  {
    auto sub = feed.subscribe({}, [] {});
    EXPECT_EQ(feed.subscribers(), 1u);
  }
  EXPECT_EQ(feed.subscribers(), 0u);
}

TEST(MemoryLiveFeed, LastEventIdReplaysWhatCameAfter) {
  MemoryLiveFeed feed;
  feed.publish({click("01A", 1, 1), click("01B", 1, 1), click("01C", 1, 1)});
  auto sub = feed.subscribe(
      {}, [] {}, "01A");
  auto replayed = sub->drain();
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0]->id, "01B");
  EXPECT_EQ(replayed[1]->id, "01C");
}

TEST(MemoryLiveFeed, RemembersNothingWhileNobodyCouldResume) {
  MemoryLiveFeed feed(1024, 1024, std::chrono::seconds(0));  // no resume window at all
  EXPECT_FALSE(feed.listened());
  feed.publish({click("01A", 1, 1)});  // nobody listens: dropped, not remembered
  {
    auto sub = feed.subscribe({}, [] {});
    EXPECT_TRUE(feed.listened());
    feed.publish({click("01B", 1, 1)});
    ASSERT_EQ(sub->drain().size(), 1u);
  }
  EXPECT_FALSE(feed.listened());
  feed.publish({click("01C", 1, 1)});
  auto resumed = feed.subscribe(
      {}, [] {}, "0");
  auto replayed = resumed->drain();
  ASSERT_EQ(replayed.size(), 1u);  // 01B, which came while someone listened
  EXPECT_EQ(replayed[0]->id, "01B");
}

TEST(MemoryLiveFeed, RemembersForTheResumeWindowAfterTheLastSubscriberLeft) {
  MemoryLiveFeed feed;  // 60 s: from its start, and after the last subscriber leaves
  EXPECT_TRUE(feed.listened());
  {
    auto sub = feed.subscribe({}, [] {});
  }
  EXPECT_TRUE(feed.listened());
  feed.publish({click("01A", 1, 1)});
  auto resumed = feed.subscribe(
      {}, [] {}, "0");
  EXPECT_EQ(resumed->drain().size(), 1u);
}

}  // namespace
}  // namespace shortener
