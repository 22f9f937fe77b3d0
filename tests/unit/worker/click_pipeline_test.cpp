#include "worker/click_pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/click.h"
#include "live/memory/memory_live_feed.h"
#include "queue/memory/memory_click_queue.h"
#include "worker/click_buffer.h"

namespace shortener {
namespace {

ClickEvent event(int i) {
  TimeUs at = 1'700'000'000'000'000 + i;
  return ClickEvent{.id = new_event_id(at),
                    .link_id = 1,
                    .slug = "abc",
                    .at = at,
                    .ip = "8.8.8.8",
                    .user_agent = "ua",
                    .referer = "",
                    .destination = "https://e/"};
}

TEST(EventId, UniqueAndOrderedWithinAThread) {
  std::string last;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto id = new_event_id(1'700'000'000'000'000 + i / 100);  // many ids per millisecond
    ASSERT_EQ(id.size(), 26u);
    ASSERT_GT(id, last);
    ASSERT_TRUE(seen.insert(id).second);
    last = id;
  }
}

TEST(ClickBuffer, DropsAndCountsWhenFull) {
  ClickBuffer buffer(4, 1);
  for (int i = 0; i < 6; ++i) buffer.offer(event(i));
  EXPECT_EQ(buffer.accepted(), 4u);
  EXPECT_EQ(buffer.dropped(), 2u);
  std::vector<ClickEvent> out;
  buffer.drain(out);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_TRUE(buffer.offer(event(7)));  // room again after the drain
}

TEST(MemoryClickQueue, NackPutsABatchBackInOrder) {
  MemoryClickQueue queue;
  std::vector<ClickEvent> events = {event(1), event(2), event(3)};
  ASSERT_TRUE(queue.push(std::move(events)));
  auto first = queue.pop(2, std::chrono::milliseconds(0));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->events.size(), 2u);
  std::string id = first->events[0].id;
  queue.nack(std::move(*first));
  EXPECT_EQ(queue.size(), 3u);
  auto again = queue.pop(10, std::chrono::milliseconds(0));
  ASSERT_EQ(again->events.size(), 3u);
  EXPECT_EQ(again->events[0].id, id);
  EXPECT_EQ(queue.size(), 3u);  // in flight until acked
  ASSERT_TRUE(queue.ack(*again));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(MemoryClickQueue, FullQueueRefusesAndLeavesEventsWithTheCaller) {
  MemoryClickQueue queue(2);
  std::vector<ClickEvent> events = {event(1), event(2), event(3)};
  EXPECT_FALSE(queue.push(std::move(events)));
  EXPECT_EQ(events.size(), 3u);  // untouched: the shipper retries them
}

TEST(MemoryClickQueue, TakeAllIncludesUnackedDeliveries) {
  MemoryClickQueue queue;
  std::vector<ClickEvent> events = {event(1), event(2), event(3)};
  ASSERT_TRUE(queue.push(std::move(events)));
  auto delivery = queue.pop(1, std::chrono::milliseconds(0));
  EXPECT_EQ(queue.take_all().size(), 3u);
}

TEST(Spool, RoundTripsEveryField) {
  auto path = std::filesystem::temp_directory_path() / ("spool-" + std::to_string(::getpid()));
  ClickEvent e = event(5);
  e.account_id = 7;
  e.accept_language = "fr";
  e.query = "utm_source=news";
  e.user_agent = std::string("bin\0ary", 7);
  ASSERT_TRUE(write_spool(path, {e, event(6)}));
  auto back = read_spool(path);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  const ClickEvent& r = (*back)[0];
  EXPECT_EQ(r.id, e.id);
  EXPECT_EQ(r.account_id, 7);
  EXPECT_EQ(r.at, e.at);
  EXPECT_EQ(r.user_agent, e.user_agent);
  EXPECT_EQ(r.query, "utm_source=news");
  EXPECT_EQ(r.accept_language, "fr");
  std::filesystem::remove(path);
}

TEST(Spool, TruncatedOrForeignFilesAreErrorsNotCrashes) {
  auto path = std::filesystem::temp_directory_path() / ("spool-bad-" + std::to_string(::getpid()));
  ASSERT_TRUE(write_spool(path, {event(1), event(2)}));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 5);
  EXPECT_FALSE(read_spool(path));
  { std::ofstream(path) << "not a spool"; }
  EXPECT_FALSE(read_spool(path));
  std::filesystem::remove(path);
  EXPECT_EQ(read_spool(path).error().code, Errc::not_found);
}

// Workers with a store that fails first: the batch is retried, nothing is acked before it is
// stored, and every event is stored exactly once in the end.
class FlakyStore final : public ClickStore {
 public:
  Result<WriteResult> write(std::vector<EnrichedClick>& clicks) override {
    std::lock_guard lock(mutex);
    if (failures_left > 0) {
      --failures_left;
      return fail(Errc::unavailable, "down");
    }
    WriteResult result;
    std::erase_if(clicks, [&](const EnrichedClick& c) {
      bool fresh = ids.insert(c.id).second;
      fresh ? ++result.inserted : ++result.duplicates;
      return !fresh;
    });
    return result;
  }
  Result<void> prune(TimeUs, TimeUs) override { return {}; }
  std::mutex mutex;
  int failures_left = 2;
  std::set<std::string> ids;
};

class CopyEnricher final : public Enricher {
 public:
  EnrichedClick enrich(const ClickEvent& e) override {
    return EnrichedClick{.id = e.id, .link_id = e.link_id, .slug = e.slug, .at = e.at};
  }
};

TEST(ClickPipeline, EveryBufferedClickIsStoredOnceDespiteStoreFailures) {
  ClickBuffer buffer(100000, 4);
  MemoryClickQueue queue;
  MemoryLiveFeed live;
  FlakyStore store;
  CopyEnricher enricher;
  ClickShipper shipper(buffer, queue, std::chrono::milliseconds(1));
  ClickWorkers workers(
      queue, enricher, store, live,
      ClickWorkerOptions{
          .threads = 2, .batch_max = 100, .batch_wait = std::chrono::milliseconds(5)});
  shipper.start();
  workers.start();
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&buffer, t] {
      for (int i = 0; i < 2500; ++i) buffer.offer(event(t * 10000 + i));
    });
  for (auto& p : producers) p.join();
  shipper.stop();
  queue.close();
  EXPECT_TRUE(workers.drain_and_stop(std::chrono::steady_clock::now() + std::chrono::seconds(20)));
  EXPECT_EQ(store.ids.size(), 10000u);
  EXPECT_EQ(workers.counters().processed, 10000u);
  EXPECT_GE(workers.counters().failures, 2u);
  EXPECT_EQ(buffer.dropped(), 0u);
}

}  // namespace
}  // namespace shortener
