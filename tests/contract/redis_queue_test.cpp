// The Redis click stream beyond the ClickQueue contract: reclaiming from dead consumers,
// dead letters, the length bound, a Redis restart mid-run, and XADD throughput.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <set>

#include "adapter_factories.h"
#include "cache/memory/memory_link_cache.h"
#include "cache/redis/tiered_link_cache.h"
#include "queue/redis/click_codec.h"
#include "queue/redis/redis_click_queue.h"
#include "queue/redis/spooling_click_queue.h"
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

std::vector<ClickEvent> events(int from, int to) {
  std::vector<ClickEvent> out;
  for (int n = from; n < to; ++n)
    out.push_back(ClickEvent{.id = "ev" + std::to_string(n), .link_id = n, .slug = "s"});
  return out;
}

RedisClickQueueOptions stream_options(const std::string& stream, const char* consumer) {
  return RedisClickQueueOptions{.stream = stream,
                                .dead_stream = stream + ":dead",
                                .length_key = stream + ":length",
                                .consumer = consumer,
                                .claim_idle = milliseconds(200),
                                .reclaim_interval = milliseconds(0),
                                .max_deliveries = 3,
                                .length_refresh = milliseconds(0)};
}

TEST(RedisClickQueue, ReclaimsWhatADeadConsumerLeftPending) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string stream = unique_name("clicks");
  RedisClickQueue dead(client, stream_options(stream, "dead"));
  RedisClickQueue alive(client, stream_options(stream, "alive"));
  ASSERT_TRUE(dead.ensure_group());
  ASSERT_TRUE(dead.push(events(0, 4)));
  auto taken = dead.pop(10, milliseconds(100));
  ASSERT_TRUE(taken && taken->events.size() == 4u);
  ASSERT_TRUE(dead.push(events(4, 6)));  // queued behind: must stay counted throughout
  // "dead" never acks. Before claim_idle passes, its entries are not anyone else's.
  RedisClickQueue bystander(client, stream_options(stream, "bystander"));
  std::this_thread::sleep_for(milliseconds(250));
  auto reclaimed = alive.pop(4, milliseconds(50));
  ASSERT_TRUE(reclaimed) << reclaimed.error().detail;
  ASSERT_EQ(reclaimed->events.size(), 4u);
  EXPECT_EQ(reclaimed->events[0].id, "ev0");
  ASSERT_TRUE(alive.ack(*reclaimed));
  EXPECT_EQ(alive.size(), 2u);
  EXPECT_EQ(alive.counters().reclaimed, 1u);  // one entry: the pushed batch
  // The dead consumer's late ack (it was only slow) is harmless: nothing is counted twice.
  EXPECT_TRUE(dead.ack(*taken));
  EXPECT_EQ(alive.size(), 2u);
  auto rest = bystander.pop(10, milliseconds(100));
  ASSERT_TRUE(rest && rest->events.size() == 2u);
  ASSERT_TRUE(bystander.ack(*rest));
  EXPECT_EQ(alive.size(), 0u);
}

std::size_t consumers(RedisClient& client, const std::string& stream) {
  auto reply = client.command({"XINFO", "CONSUMERS", stream, "workers"});
  return reply ? reply->elements.size() : 0;
}

TEST(RedisClickQueue, LeavesTheGroupOnlyWithNothingPending) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string stream = unique_name("clicks");
  RedisClickQueue holder(client, stream_options(stream, "holder"));
  RedisClickQueue done(client, stream_options(stream, "done"));
  ASSERT_TRUE(holder.ensure_group());
  ASSERT_TRUE(holder.push(events(0, 2)));
  ASSERT_TRUE(holder.push(events(2, 4)));
  auto held = holder.pop(2, milliseconds(100));
  ASSERT_TRUE(held && held->events.size() == 2u);
  auto finished = done.pop(2, milliseconds(100));
  ASSERT_TRUE(finished && finished->events.size() == 2u);
  ASSERT_TRUE(done.ack(*finished));
  ASSERT_EQ(consumers(client, stream), 2u);
  // "holder" stops with an unacknowledged batch: it stays, so its entries can be reclaimed.
  holder.close();
  auto stayed = holder.leave();
  ASSERT_TRUE(stayed) << stayed.error().detail;
  EXPECT_FALSE(*stayed);
  done.close();
  auto left = done.leave();
  ASSERT_TRUE(left) << left.error().detail;
  EXPECT_TRUE(*left);
  EXPECT_EQ(consumers(client, stream), 1u);
  // Nothing was lost: the held entries are still pending and another consumer takes them.
  std::this_thread::sleep_for(milliseconds(250));
  RedisClickQueue next(client, stream_options(stream, "next"));
  auto reclaimed = next.pop(10, milliseconds(50));
  ASSERT_TRUE(reclaimed) << reclaimed.error().detail;
  EXPECT_EQ(reclaimed->events.size(), 2u);
}

TEST(RedisClickQueue, DeadLettersAfterMaxDeliveriesAndReplays) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string stream = unique_name("clicks");
  RedisClickQueue queue(client, stream_options(stream, "w"));
  ASSERT_TRUE(queue.ensure_group());
  ASSERT_TRUE(queue.push(events(0, 2)));  // two entries: one batch of 2, one of 1
  ASSERT_TRUE(queue.push(events(2, 3)));
  EXPECT_EQ(queue.size(), 3u);
  for (int delivery = 1; delivery <= 3; ++delivery) {
    std::vector<ClickDelivery> batches;
    std::size_t got = 0;
    while (got < 3) {  // the first read asks for one entry: it does not know their size yet
      auto batch = queue.pop(10, milliseconds(100));
      ASSERT_TRUE(batch) << batch.error().detail;
      ASSERT_FALSE(batch->events.empty()) << "delivery " << delivery << " after " << got;
      got += batch->events.size();
      batches.push_back(std::move(*batch));
    }
    EXPECT_EQ(got, 3u) << "delivery " << delivery;
    for (ClickDelivery& batch : batches) queue.nack(std::move(batch));  // the store keeps failing
  }
  auto after = queue.pop(10, milliseconds(50));
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->events.empty());
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.counters().dead_lettered, 2u);

  auto letters = queue.dead_letters(10);
  ASSERT_TRUE(letters) << letters.error().detail;
  ASSERT_EQ(letters->size(), 2u);
  EXPECT_EQ((*letters)[0].deliveries, 3);
  EXPECT_EQ((*letters)[0].reason, "too many failed deliveries");
  ASSERT_TRUE((*letters)[0].events);
  ASSERT_EQ((*letters)[0].events->size(), 2u);
  EXPECT_EQ((*letters)[0].events->at(0).id, "ev0");
  EXPECT_EQ((*letters)[0].events->at(1).id, "ev1");
  ASSERT_TRUE((*letters)[1].events && (*letters)[1].events->size() == 1u);
  auto page = queue.dead_letters(10, (*letters)[0].id);
  ASSERT_TRUE(page && page->size() == 1u);

  auto replayed = queue.replay_dead_letters({(*letters)[1].id, "0-1"});
  ASSERT_TRUE(replayed);
  EXPECT_EQ(*replayed, 1u);
  EXPECT_EQ(queue.size(), 1u);
  auto again = queue.pop(10, milliseconds(100));
  ASSERT_TRUE(again && again->events.size() == 1u);
  EXPECT_EQ(again->events[0].id, "ev2");
  ASSERT_TRUE(queue.ack(*again));
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.dead_letters(10)->size(), 1u);
  EXPECT_EQ(*queue.replay_all_dead_letters(10), 1u);
  EXPECT_TRUE(queue.dead_letters(10)->empty());
}

TEST(RedisClickQueue, UndecodableEntriesGoStraightToDeadLetters) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string stream = unique_name("clicks");
  RedisClickQueue queue(client, stream_options(stream, "w"));
  ASSERT_TRUE(queue.ensure_group());
  ASSERT_TRUE(client.command({"XADD", stream, "*", "e", "\x7fgarbage"}));
  ASSERT_TRUE(queue.push(events(0, 1)));
  auto batch = queue.pop(10, milliseconds(100));
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->events.size(), 1u);
  auto letters = queue.dead_letters(10);
  ASSERT_TRUE(letters && letters->size() == 1u);
  EXPECT_EQ((*letters)[0].reason, "undecodable event");
  EXPECT_FALSE((*letters)[0].events);
  ASSERT_TRUE(queue.ack(*batch));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(RedisClickQueue, OneEntryPerBatchAndTheBacklogInClicks) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  auto options = stream_options(unique_name("clicks"), "w");
  options.entry_events = 10;
  RedisClickQueue queue(client, options);
  ASSERT_TRUE(queue.ensure_group());
  ASSERT_TRUE(queue.push(events(0, 25)));  // entries of 10, 10 and 5
  auto length = [&](const std::string& key) {
    return as_integer(*client.command({"XLEN", key})).value_or(-1);
  };
  EXPECT_EQ(length(options.stream), 3);
  EXPECT_EQ(queue.size(), 25u);
  auto backlog = queue.backlog();
  ASSERT_TRUE(backlog) << backlog.error().detail;
  EXPECT_EQ((std::array{backlog->length, backlog->entries, backlog->pending}),
            (std::array<std::size_t, 3>{25, 3, 0}));

  // Whole entries, up to max; the rest of what a read took waits in this process.
  auto first = queue.pop(15, milliseconds(100));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(first->events.size(), 10u);
  EXPECT_EQ(queue.in_flight(), 20u);  // the second entry, read too, waits for the next pop
  auto second = queue.pop(15, milliseconds(100));
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_EQ(second->events.size(), 10u);
  EXPECT_EQ(second->events.front().id, "ev10");
  auto third = queue.pop(15, milliseconds(100));
  ASSERT_TRUE(third) << third.error().detail;
  EXPECT_EQ(third->events.size(), 5u);
  EXPECT_EQ(third->events.back().id, "ev24");
  EXPECT_EQ(queue.in_flight(), 25u);
  ASSERT_TRUE(queue.ack(*first));
  EXPECT_EQ(queue.size(), 15u);
  ASSERT_TRUE(queue.ack(*second));
  ASSERT_TRUE(queue.ack(*third));
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(length(options.stream), 0);
  EXPECT_EQ(as_integer(*client.command({"EXISTS", options.length_key})), 0);  // reset when empty

  // One entry larger than max is delivered whole: it is acknowledged whole.
  ASSERT_TRUE(queue.push(events(30, 38)));
  auto whole = queue.pop(3, milliseconds(100));
  ASSERT_TRUE(whole && whole->events.size() == 8u);
  ASSERT_TRUE(queue.ack(*whole));

  // Many small entries: the first read asks for few, the next ones for what is still wanted.
  for (int n = 40; n < 70; ++n) ASSERT_TRUE(queue.push(events(n, n + 1)));
  auto small = queue.pop(20, milliseconds(100));
  ASSERT_TRUE(small) << small.error().detail;
  EXPECT_EQ(small->events.size(), 20u);
  ASSERT_TRUE(queue.ack(*small));
  EXPECT_EQ(queue.size(), 10u);
}

TEST(RedisClickQueue, ReadsEntriesOfOneEventAsEarlierVersionsWroteThem) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  auto options = stream_options(unique_name("clicks"), "w");
  RedisClickQueue queue(client, options);
  ASSERT_TRUE(queue.ensure_group());
  for (const ClickEvent& e : events(0, 2))
    ASSERT_TRUE(client.command({"XADD", options.stream, "*", "e", encode_click_event(e)}));
  ASSERT_TRUE(queue.push(events(2, 4)));
  EXPECT_EQ(queue.size(), 3u);  // no counter for the old entries: the stream's length is the floor
  std::vector<std::string> seen;
  for (int i = 0; i < 3 && seen.size() < 4; ++i) {
    auto batch = queue.pop(10, milliseconds(100));
    ASSERT_TRUE(batch) << batch.error().detail;
    for (const ClickEvent& e : batch->events) seen.push_back(e.id);
    ASSERT_TRUE(queue.ack(*batch));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ev0", "ev1", "ev2", "ev3"}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(RedisClickQueue, CreatesItsGroupWhenMissing) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string stream = unique_name("clicks");
  RedisClickQueue queue(client, stream_options(stream, "w"));  // no ensure_group()
  ASSERT_TRUE(queue.push(events(0, 2)));
  auto first = queue.pop(10, milliseconds(100));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(first->events.size(), 2u);           // pushed before the group existed: still its work
  ASSERT_TRUE(client.command({"DEL", stream}));  // a server that lost its data
  ASSERT_TRUE(queue.push(events(2, 3)));
  auto second = queue.pop(10, milliseconds(100));
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_EQ(second->events.size(), 1u);
}

TEST(RedisClickQueue, RefusesPushesAtItsBoundAndRaisesTheAlarm) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  auto options = stream_options(unique_name("clicks"), "w");
  options.max_length = 10;
  options.alarm_length = 5;
  RedisClickQueue queue(client, options);
  ASSERT_TRUE(queue.push(events(0, 6)));
  EXPECT_TRUE(queue.over_alarm());
  ASSERT_TRUE(queue.push(events(6, 10)));
  auto refused = queue.push(events(10, 11));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::unavailable);
}

TEST(RedisRestart, UnavailableWhileDownThenEverythingRecovers) {
  if (test_redis() == std::nullopt && !redis_required()) GTEST_SKIP() << kNoRedis;
  ASSERT_TRUE(PrivateRedis::available()) << "needs /usr/bin/redis-server";
  PrivateRedis server;
  ASSERT_TRUE(server.config()) << "scripts/redis-test.sh start failed";
  RedisConfig config = *server.config();
  RedisClient client(config);
  RedisClickQueue queue(client, stream_options("clicks", "w"));
  ASSERT_TRUE(queue.ensure_group());
  ASSERT_TRUE(queue.push(events(0, 5)));
  ASSERT_TRUE(queue.push(events(5, 10)));
  auto in_flight = queue.pop(5, milliseconds(100));  // being stored when Redis goes down
  ASSERT_TRUE(in_flight && in_flight->events.size() == 5u);
  RedisLinkCache l2_a(client), l2_b(client);
  auto l1 = [] { return std::make_unique<MemoryLinkCache>(); };
  TieredLinkCache a(l1, l2_a, config), b(l1, l2_b, config);
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }, milliseconds(5000)));

  ASSERT_TRUE(server.down());
  auto refused = queue.push(events(10, 12));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::unavailable);
  EXPECT_FALSE(queue.pop(10, milliseconds(10)));
  EXPECT_EQ(a.get("abc").outcome, LinkCache::Outcome::miss);  // a redirect falls through
  TempDir dir;
  SpoolingClickQueue spool(queue, dir.path() / "clicks-redis.spool",
                           {.replay_interval = milliseconds(100)});
  spool.start();
  ASSERT_TRUE(spool.push(events(10, 13)));  // the shipper's view: accepted
  EXPECT_EQ(spool.spooled(), 3u);
  a.invalidate("abc");  // made while down: retried when Redis is back
  EXPECT_EQ(a.counters().invalidations_pending, 1u);

  ASSERT_TRUE(server.up());
  ASSERT_TRUE(eventually([&] { return spool.spooled() == 0; }, milliseconds(10000)));
  ASSERT_TRUE(
      eventually([&] { return a.counters().invalidations_pending == 0; }, milliseconds(5000)));
  ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }, milliseconds(5000)));
  EXPECT_GE(b.counters().l1_flushes, 2u);  // b may have missed messages: it started cold again
  // The entries in flight at the restart survived it (AOF) and can still be acknowledged.
  ASSERT_TRUE(queue.ack(*in_flight));
  std::set<std::string> seen;
  for (const ClickEvent& e : in_flight->events) seen.insert(e.id);
  while (auto batch = queue.pop(100, milliseconds(100))) {
    if (batch->events.empty()) break;
    for (const ClickEvent& e : batch->events) seen.insert(e.id);
    ASSERT_TRUE(queue.ack(*batch));
  }
  EXPECT_EQ(seen.size(), 13u);  // 10 before, 3 spooled during the outage: none lost
  EXPECT_EQ(queue.size(), 0u);
  // Invalidation across replicas works again after the subscribers reconnected.
  auto lookup = b.get("xyz");
  b.put(std::make_shared<const CachedLink>(CachedLink{.id = 1, .slug = "xyz", .url = "u"}),
        lookup.ticket);
  ASSERT_EQ(a.get("xyz").outcome, LinkCache::Outcome::hit);
  b.invalidate("xyz");
  EXPECT_TRUE(eventually([&] { return a.peek("xyz").outcome == LinkCache::Outcome::miss; },
                         milliseconds(1000)));
}

TEST(RedisClickQueue, PipelinedPushThroughput) {
  REDIS_OR_SKIP(config);
  RedisClient client(*config);
  std::string stream = unique_name("clicks");
  RedisClickQueue queue(client, stream_options(stream, "w"));
  constexpr int kEvents = 100'000, kBatch = 1'000;
  ClickEvent sample{.id = "01JCZ6Y8Q3W5XKQ9M2VJ7R4T6B",
                    .link_id = 123456,
                    .account_id = 42,
                    .slug = "aZ3kP9q",
                    .at = 1'767'225'600'123'456,
                    .ip = "203.0.113.77",
                    .user_agent =
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                    .referer = "https://news.example.com/article/123",
                    .accept_language = "en-US,en;q=0.9",
                    .query = "utm_source=newsletter",
                    .destination = "https://www.example.com/landing/page?campaign=spring"};
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < kEvents; n += kBatch) {
    std::vector<ClickEvent> batch(kBatch, sample);
    ASSERT_TRUE(queue.push(std::move(batch)));
  }
  auto rate = [&](auto since) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    return static_cast<long>(kEvents / seconds);
  };
  long push_rate = rate(start);
  EXPECT_EQ(queue.size(), static_cast<std::size_t>(kEvents));
  start = std::chrono::steady_clock::now();
  for (int taken = 0; taken < kEvents;) {
    auto batch = queue.pop(kBatch, milliseconds(100));
    ASSERT_TRUE(batch) << batch.error().detail;
    ASSERT_FALSE(batch->events.empty());
    taken += static_cast<int>(batch->events.size());
    ASSERT_TRUE(queue.ack(*batch));
  }
  long consume_rate = rate(start);
  RecordProperty("xadd_events_per_second", std::to_string(push_rate));
  RecordProperty("xreadgroup_xack_events_per_second", std::to_string(consume_rate));
  std::printf("%d-event batches: XADD %ld events/s, XREADGROUP+XACK+XDEL %ld events/s\n", kBatch,
              push_rate, consume_rate);
  EXPECT_EQ(queue.size(), 0u);
}

}  // namespace
}  // namespace shortener::contract
