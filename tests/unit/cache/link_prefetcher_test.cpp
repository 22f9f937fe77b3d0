// LinkPrefetcher's batching and its one-completion-per-request promise, with a fetch function
// standing in for Redis (the Redis-backed prefetch is tested in the contract suite).
#include "cache/redis/link_prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>

namespace shortener {
namespace {

using Lookup = LinkCache::Lookup;
using Outcome = LinkCache::Outcome;

CachedLinkPtr link_for(const std::string& slug) {
  return std::make_shared<const CachedLink>(
      CachedLink{.id = 1, .slug = slug, .url = "https://example.com/" + slug});
}

// A fetch that records its batches and can be held, so requests pile up behind it.
struct FakeRedis {
  std::mutex mutex;
  std::condition_variable changed;
  bool held = false;
  int calls_in_fetch = 0;
  std::vector<std::vector<std::string>> batches;

  std::vector<Lookup> fetch(std::span<const std::string> slugs) {
    std::unique_lock lock(mutex);
    batches.emplace_back(slugs.begin(), slugs.end());
    ++calls_in_fetch;
    changed.notify_all();
    changed.wait(lock, [this] { return !held; });
    std::vector<Lookup> out;
    for (const std::string& slug : slugs) {
      if (slug.starts_with("neg"))
        out.push_back({Outcome::negative, nullptr, 0});
      else if (slug.starts_with("miss"))
        out.push_back({Outcome::miss, nullptr, 77});
      else
        out.push_back({Outcome::hit, link_for(slug), 0});
    }
    return out;
  }
  void hold() {
    std::lock_guard lock(mutex);
    held = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      held = false;
    }
    changed.notify_all();
  }
  void wait_for_calls(int n) {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        changed.wait_for(lock, std::chrono::seconds(5), [&] { return calls_in_fetch >= n; }));
  }
};

// Collects completions: how many per request, and what each got.
struct Completions {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int, std::vector<Lookup>> by_request;
  int total = 0;

  LinkPrefetcher::Done done(int request) {
    return [this, request](Lookup lookup) {
      std::lock_guard lock(mutex);
      by_request[request].push_back(std::move(lookup));
      ++total;
      changed.notify_all();
    };
  }
  bool wait_for(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(5), [&] { return total >= n; });
  }
};

TEST(LinkPrefetcher, CompletesEachRequestOnceWithItsOwnSlugsLookup) {
  FakeRedis redis;
  LinkPrefetcher prefetcher([&](auto slugs) { return redis.fetch(slugs); });
  prefetcher.start();
  Completions done;
  prefetcher.submit("abc", done.done(0));
  prefetcher.submit("neg1", done.done(1));
  prefetcher.submit("miss1", done.done(2));
  ASSERT_TRUE(done.wait_for(3));
  prefetcher.stop();
  std::lock_guard lock(done.mutex);
  ASSERT_EQ(done.by_request[0].size(), 1u);
  ASSERT_EQ(done.by_request[0][0].outcome, Outcome::hit);
  EXPECT_EQ(done.by_request[0][0].link->slug, "abc");
  ASSERT_EQ(done.by_request[1].size(), 1u);
  EXPECT_EQ(done.by_request[1][0].outcome, Outcome::negative);
  ASSERT_EQ(done.by_request[2].size(), 1u);
  EXPECT_EQ(done.by_request[2][0].outcome, Outcome::miss);
  EXPECT_EQ(done.by_request[2][0].ticket, 0u);  // a miss carries no ticket to its caller
  EXPECT_EQ(done.total, 3);
}

TEST(LinkPrefetcher, RequestsQueuedDuringAFetchShareTheNextOneAndDuplicatesAreAskedOnce) {
  FakeRedis redis;
  LinkPrefetcher prefetcher([&](auto slugs) { return redis.fetch(slugs); }, /*max_batch=*/4);
  prefetcher.start();
  Completions done;
  redis.hold();
  prefetcher.submit("first", done.done(0));
  redis.wait_for_calls(1);  // the first batch is in flight, holding the thread
  const char* slugs[] = {"b", "a", "b", "c", "d", "e"};
  for (int i = 0; i < 6; ++i) prefetcher.submit(slugs[i], done.done(i + 1));
  redis.release();
  ASSERT_TRUE(done.wait_for(7));
  prefetcher.stop();
  std::lock_guard lock(redis.mutex);
  ASSERT_EQ(redis.batches.size(), 3u);
  EXPECT_EQ(redis.batches[0], std::vector<std::string>{"first"});
  // At most max_batch requests per batch; the duplicate "b" asked once, slugs sorted.
  EXPECT_EQ(redis.batches[1], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(redis.batches[2], (std::vector<std::string>{"d", "e"}));
  std::lock_guard done_lock(done.mutex);
  for (int i = 1; i <= 6; ++i) {
    ASSERT_EQ(done.by_request[i].size(), 1u) << i;
    EXPECT_EQ(done.by_request[i][0].link->slug, slugs[i - 1]);
  }
  auto counters = prefetcher.counters();
  EXPECT_EQ(counters.batches, 3u);
  EXPECT_EQ(counters.requests, 6u);  // distinct slugs fetched: first, a, b, c, d, e
  EXPECT_EQ(counters.rejected, 0u);
}

TEST(LinkPrefetcher, AFullQueueDeclinesAtOnce) {
  FakeRedis redis;
  LinkPrefetcher prefetcher([&](auto slugs) { return redis.fetch(slugs); }, 8, /*max_queue=*/2);
  prefetcher.start();
  Completions done;
  redis.hold();
  prefetcher.submit("x", done.done(0));
  redis.wait_for_calls(1);
  prefetcher.submit("y", done.done(1));
  prefetcher.submit("z", done.done(2));
  prefetcher.submit("over", done.done(3));  // the queue holds 2: declined, completed now
  {
    std::lock_guard lock(done.mutex);
    ASSERT_EQ(done.by_request[3].size(), 1u);
    EXPECT_EQ(done.by_request[3][0].outcome, Outcome::miss);
    EXPECT_EQ(done.total, 1);
  }
  EXPECT_EQ(prefetcher.counters().rejected, 1u);
  redis.release();
  ASSERT_TRUE(done.wait_for(4));
  prefetcher.stop();
  std::lock_guard lock(done.mutex);
  EXPECT_EQ(done.by_request[2][0].outcome, Outcome::hit);
  EXPECT_EQ(done.total, 4);
}

TEST(LinkPrefetcher, StopCompletesWhatIsQueuedAndDeclinesWhatComesAfter) {
  FakeRedis redis;
  LinkPrefetcher prefetcher([&](auto slugs) { return redis.fetch(slugs); }, 1);
  prefetcher.start();
  Completions done;
  redis.hold();
  prefetcher.submit("inflight", done.done(0));
  redis.wait_for_calls(1);
  prefetcher.submit("queued1", done.done(1));
  prefetcher.submit("queued2", done.done(2));
  std::thread stopper([&] { prefetcher.stop(); });  // waits for the batch in flight
  // Until the stop has begun: a probe is then declined at once (queued ones complete only
  // after the held batch, which nothing releases yet).
  std::atomic<int> probes_done{0};
  int probes = 0;
  while (probes_done.load() == 0) {
    prefetcher.submit("probe", [&](Lookup) { probes_done.fetch_add(1); });
    ++probes;
    if (probes_done.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  redis.release();
  stopper.join();
  EXPECT_EQ(probes_done.load(), probes);
  prefetcher.submit("late", done.done(3));
  std::lock_guard lock(done.mutex);
  EXPECT_EQ(done.total, 4);
  EXPECT_EQ(done.by_request[0][0].outcome, Outcome::hit);  // its batch finished
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(done.by_request[i].size(), 1u) << i;
    EXPECT_EQ(done.by_request[i][0].outcome, Outcome::miss) << i;
  }
  EXPECT_EQ(prefetcher.counters().rejected, 3u + static_cast<unsigned>(probes));
  EXPECT_EQ(redis.batches.size(), 1u);
}

TEST(LinkPrefetcher, NotStartedDeclinesAtOnce) {
  LinkPrefetcher prefetcher([](auto) -> std::vector<Lookup> {
    ADD_FAILURE() << "fetch must not run";
    return {};
  });
  Completions done;
  prefetcher.submit("abc", done.done(0));
  EXPECT_EQ(done.total, 1);
  EXPECT_EQ(done.by_request[0][0].outcome, Outcome::miss);
}

TEST(LinkPrefetcher, AFetchThatThrowsOrAnswersTheWrongCountCompletesWithMisses) {
  int call = 0;
  LinkPrefetcher prefetcher([&](auto slugs) -> std::vector<Lookup> {
    if (++call == 1) throw std::runtime_error("boom");
    return std::vector<Lookup>(slugs.size() + 1, Lookup{Outcome::hit, link_for("?"), 0});
  });
  prefetcher.start();
  Completions done;
  prefetcher.submit("a", done.done(0));
  ASSERT_TRUE(done.wait_for(1));
  prefetcher.submit("b", done.done(1));
  ASSERT_TRUE(done.wait_for(2));
  prefetcher.stop();
  std::lock_guard lock(done.mutex);
  EXPECT_EQ(done.by_request[0][0].outcome, Outcome::miss);
  EXPECT_EQ(done.by_request[1][0].outcome, Outcome::miss);
}

}  // namespace
}  // namespace shortener
