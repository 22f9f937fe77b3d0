// The LiveFeed contract: published clicks reach every matching subscriber, on every replica,
// in order, and wake it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "adapter_factories.h"
#include "core/click_ports.h"

namespace shortener::contract {
namespace {

EnrichedClick click(std::string id, std::int64_t link, std::int64_t account) {
  EnrichedClick c;
  c.id = std::move(id);
  c.link_id = link;
  c.account_id = account;
  c.slug = "slug" + std::to_string(link);
  c.at = 1'767'225'600'000'000;
  c.country = "CH";
  c.region = "ZH";
  c.city = "Z\xc3\xbcrich";
  c.referrer = "news.example";
  c.device = "mobile";
  c.browser = "Firefox";
  c.browser_version = "128";
  c.os = "Android";
  c.bot = true;
  c.bot_reason = "crawler list";
  c.utm_source = "newsletter";
  c.destination = "https://dest.example/";
  c.unique = true;
  return c;
}
// Everything a subscriber has been handed within the time limit, once `count` arrived.
std::vector<std::shared_ptr<const EnrichedClick>> collect(LiveSubscription& sub,
                                                          std::size_t count) {
  std::vector<std::shared_ptr<const EnrichedClick>> got;
  eventually([&] {
    for (auto& c : sub.drain()) got.push_back(std::move(c));
    return got.size() >= count;
  });
  return got;
}

TEST_P(LiveFeedContract, AnotherReplicasSubscriberGetsEveryField) {
  std::atomic<int> wakes{0};
  auto sub = b().subscribe(LiveFilter{}, [&] { ++wakes; });
  a().publish({click("01A", 1, 9)});
  auto got = collect(*sub, 1);
  ASSERT_EQ(got.size(), 1u);
  EnrichedClick want = click("01A", 1, 9);
  const EnrichedClick& c = *got[0];
  EXPECT_EQ(c.id, want.id);
  EXPECT_EQ(c.link_id, want.link_id);
  EXPECT_EQ(c.account_id, want.account_id);
  EXPECT_EQ(c.slug, want.slug);
  EXPECT_EQ(c.at, want.at);
  EXPECT_EQ(c.country, want.country);
  EXPECT_EQ(c.region, want.region);
  EXPECT_EQ(c.city, want.city);
  EXPECT_EQ(c.referrer, want.referrer);
  EXPECT_EQ(c.device, want.device);
  EXPECT_EQ(c.browser, want.browser);
  EXPECT_EQ(c.browser_version, want.browser_version);
  EXPECT_EQ(c.os, want.os);
  EXPECT_EQ(c.bot, want.bot);
  EXPECT_EQ(c.bot_reason, want.bot_reason);
  EXPECT_EQ(c.utm_source, want.utm_source);
  EXPECT_EQ(c.destination, want.destination);
  EXPECT_EQ(c.unique, want.unique);
  EXPECT_GE(wakes.load(), 1);
}

TEST_P(LiveFeedContract, EveryReplicaFansOutInOrder) {
  auto on_a = a().subscribe(LiveFilter{}, [] {});
  auto on_b = b().subscribe(LiveFilter{}, [] {});
  a().publish({click("01A", 1, 1), click("01B", 1, 1)});
  b().publish({click("01C", 1, 1)});
  for (auto* sub : {on_a.get(), on_b.get()}) {
    auto got = collect(*sub, 3);
    ASSERT_EQ(got.size(), 3u);
    // Batches from different publishers may interleave; within one they keep their order.
    std::vector<std::string> ids;
    for (const auto& c : got) ids.push_back(c->id);
    auto a_pos = std::find(ids.begin(), ids.end(), "01A");
    auto b_pos = std::find(ids.begin(), ids.end(), "01B");
    EXPECT_LT(a_pos, b_pos);
    EXPECT_NE(std::find(ids.begin(), ids.end(), "01C"), ids.end());
  }
}

TEST_P(LiveFeedContract, FiltersByLinkAndAccount) {
  auto by_link = b().subscribe(LiveFilter{.link_id = 2, .account_id = std::nullopt}, [] {});
  auto by_account = b().subscribe(LiveFilter{.link_id = std::nullopt, .account_id = 9}, [] {});
  a().publish({click("01A", 1, 9), click("01B", 2, 8), click("01C", 3, 7)});
  a().publish({click("01D", 2, 9)});  // matches both: once it arrives, so has everything
  auto links = collect(*by_link, 2);
  auto accounts = collect(*by_account, 2);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0]->id, "01B");
  EXPECT_EQ(links[1]->id, "01D");
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0]->id, "01A");
  EXPECT_EQ(accounts[1]->id, "01D");
}

TEST_P(LiveFeedContract, AGoneSubscriberIsNotDeliveredTo) {
  auto kept = b().subscribe(LiveFilter{}, [] {});
  {
    auto gone = b().subscribe(LiveFilter{}, [] {});
  }
  a().publish({click("01A", 1, 1)});
  EXPECT_EQ(collect(*kept, 1).size(), 1u);
}

}  // namespace
}  // namespace shortener::contract
