// The ClickQueue contract: at-least-once hand-off from the shipper to the workers, as
// core/click_ports.h promises it. Replica a and b are two consumers (worker processes) of
// one queue.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapter_factories.h"
#include "core/click_ports.h"

namespace shortener::contract {
namespace {

using std::chrono::milliseconds;

ClickEvent event(int n) {
  return ClickEvent{
      .id = "01J" + std::string(23 - std::to_string(n).size(), '0') + std::to_string(n),
      .link_id = 1000 + n,
      .account_id = n % 3,
      .slug = "s" + std::to_string(n),
      .at = 1'767'225'600'000'000 + n,
      .ip = "2001:db8::" + std::to_string(n),
      .user_agent = "Mozilla/5.0 (X11; Linux x86_64) \xc3\xa9",
      .referer = "https://ref.example/?q=a b",
      .accept_language = "fr-CH, fr;q=0.9",
      .query = "utm_source=news&x=%00",
      .destination = "https://dest.example/" + std::to_string(n)};
}
std::vector<ClickEvent> events(int from, int to) {
  std::vector<ClickEvent> out;
  for (int n = from; n < to; ++n) out.push_back(event(n));
  return out;
}
std::vector<std::string> ids(const ClickDelivery& delivery) {
  std::vector<std::string> out;
  for (const ClickEvent& e : delivery.events) out.push_back(e.id);
  return out;
}
void push(ClickQueue& queue, std::vector<ClickEvent> batch) {
  auto pushed = queue.push(std::move(batch));
  ASSERT_TRUE(pushed) << pushed.error().detail;
}
ClickDelivery pop(ClickQueue& queue, std::size_t max, milliseconds wait = milliseconds(1000)) {
  auto delivery = queue.pop(max, wait);
  EXPECT_TRUE(delivery) << delivery.error().detail;
  return delivery ? std::move(*delivery) : ClickDelivery{};
}

TEST_P(ClickQueueContract, DeliversEveryFieldInOrder) {
  push(a(), events(0, 3));
  ClickDelivery delivery = pop(a(), 10);
  ASSERT_EQ(delivery.events.size(), 3u);
  for (int n = 0; n < 3; ++n) {
    ClickEvent want = event(n);
    const ClickEvent& got = delivery.events[n];
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.link_id, want.link_id);
    EXPECT_EQ(got.account_id, want.account_id);
    EXPECT_EQ(got.slug, want.slug);
    EXPECT_EQ(got.at, want.at);
    EXPECT_EQ(got.ip, want.ip);
    EXPECT_EQ(got.user_agent, want.user_agent);
    EXPECT_EQ(got.referer, want.referer);
    EXPECT_EQ(got.accept_language, want.accept_language);
    EXPECT_EQ(got.query, want.query);
    EXPECT_EQ(got.destination, want.destination);
  }
  EXPECT_TRUE(a().ack(delivery));
}

TEST_P(ClickQueueContract, PushTakesTheEvents) {
  std::vector<ClickEvent> batch = events(0, 2);
  ASSERT_TRUE(a().push(std::move(batch)));
  EXPECT_TRUE(batch.empty());
  std::vector<ClickEvent> none;
  EXPECT_TRUE(a().push(std::move(none)));
}

TEST_P(ClickQueueContract, EmptyPopWaitsThenAnswersEmpty) {
  auto start = std::chrono::steady_clock::now();
  ClickDelivery delivery = pop(a(), 10, milliseconds(100));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(delivery.events.empty());
  EXPECT_GE(waited, milliseconds(80));
  EXPECT_LT(waited, milliseconds(2000));
}

// Pushed one at a time: a batching queue never splits a pushed batch (click_ports.h).
void push_each(ClickQueue& queue, int from, int to) {
  for (int n = from; n < to; ++n) push(queue, events(n, n + 1));
}

TEST_P(ClickQueueContract, PopTakesAtMostMax) {
  push_each(a(), 0, 5);
  EXPECT_EQ(pop(a(), 2).events.size(), 2u);
}

TEST_P(ClickQueueContract, AckedEventsAreNotDeliveredAgain) {
  push(a(), events(0, 2));
  ClickDelivery delivery = pop(a(), 10);
  ASSERT_EQ(delivery.events.size(), 2u);
  ASSERT_TRUE(a().ack(delivery));
  EXPECT_TRUE(pop(a(), 10, milliseconds(100)).events.empty());
  EXPECT_TRUE(pop(b(), 10, milliseconds(100)).events.empty());
  EXPECT_EQ(a().size(), 0u);
}

TEST_P(ClickQueueContract, NackedEventsAreDeliveredAgain) {
  push(a(), events(0, 3));
  ClickDelivery first = pop(a(), 10);
  ASSERT_EQ(first.events.size(), 3u);
  auto first_ids = ids(first);
  a().nack(std::move(first));
  ClickDelivery again = pop(a(), 10);
  EXPECT_EQ(ids(again), first_ids);
  EXPECT_TRUE(a().ack(again));
  EXPECT_EQ(a().size(), 0u);
}

TEST_P(ClickQueueContract, SizeCountsQueuedAndUnacknowledged) {
  push_each(a(), 0, 3);
  EXPECT_EQ(a().size(), 3u);
  ClickDelivery delivery = pop(a(), 2);
  ASSERT_EQ(delivery.events.size(), 2u);
  EXPECT_EQ(a().size(), 3u);  // in flight still counts: not stored yet
  ASSERT_TRUE(a().ack(delivery));
  EXPECT_EQ(a().size(), 1u);
}

TEST_P(ClickQueueContract, AnotherConsumerTakesWhatWasPushedElsewhere) {
  push(a(), events(0, 2));
  ClickDelivery delivery = pop(b(), 10);
  EXPECT_EQ(delivery.events.size(), 2u);
  EXPECT_TRUE(b().ack(delivery));
}

TEST_P(ClickQueueContract, ConcurrentConsumersShareTheWorkWithoutDuplicates) {
  constexpr int kEvents = 400;
  for (int n = 0; n < kEvents; n += 50) push(a(), events(n, n + 50));
  std::vector<std::string> seen_a, seen_b;
  auto consume = [&](ClickQueue& queue, std::vector<std::string>& seen) {
    for (int idle = 0; idle < 3;) {
      auto delivery = queue.pop(25, milliseconds(50));
      if (!delivery || delivery->events.empty()) {
        ++idle;
        continue;
      }
      for (const ClickEvent& e : delivery->events) seen.push_back(e.id);
      (void)queue.ack(*delivery);
    }
  };
  std::thread other([&] { consume(b(), seen_b); });
  consume(a(), seen_a);
  other.join();
  std::set<std::string> all(seen_a.begin(), seen_a.end());
  all.insert(seen_b.begin(), seen_b.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(seen_a.size() + seen_b.size(), static_cast<std::size_t>(kEvents));
}

}  // namespace
}  // namespace shortener::contract
