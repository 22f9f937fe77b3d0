// The ClickStore contract (with the reads that check it): what every analytics adapter must do
// when storing clicks, as core/click_ports.h promises it. Queries: stats_store_contract.cpp.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "click_store_factory.h"
#include "click_test_data.h"
#include "core/stats_query.h"

namespace shortener::contract {
namespace {

TEST_P(ClickStoreContract, EmptyWriteAndEmptyQueryAreNoOps) {
  std::vector<EnrichedClick> none;
  auto written = clicks().write(none);
  ASSERT_TRUE(written);
  EXPECT_EQ(written->inserted, 0u);
  auto result = stats().stats(range({1}, kT0, kT0 + kDay));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->total, 0);
  EXPECT_TRUE(result->timeseries.empty());
  EXPECT_TRUE(result->countries.empty());
}

TEST_P(ClickStoreContract, WrittenClicksRoundTripThroughStatsAndExport) {
  std::vector<EnrichedClick> batch = {human(1, kT0 + kHour, "a"), human(1, kT0 + 2 * kHour, "b"),
                                      human(1, kT0 + 2 * kHour + kMinute, "a")};
  batch[1].ip_prefix = "203.0.113.0/24";
  const std::vector<EnrichedClick> sent = batch;
  const WriteResult result = write(batch);
  EXPECT_EQ(result.inserted, 3u);
  EXPECT_EQ(result.duplicates, 0u);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].id, sent[0].id);  // the caller's order is kept

  const Stats s = query(range({1}, kT0, kT0 + kDay));
  EXPECT_EQ(s.total, 3);
  EXPECT_EQ(s.unique, 2);
  EXPECT_EQ(s.bots, 0);
  EXPECT_EQ(series(s.timeseries), (Series{{kT0 + kHour, 1, 1}, {kT0 + 2 * kHour, 2, 1}}));
  EXPECT_EQ(pairs(s.countries), (decltype(pairs(s.countries)){{"FR", 3}}));
  EXPECT_EQ(pairs(s.cities), (decltype(pairs(s.cities)){{"Paris, FR", 3}}));
  EXPECT_EQ(pairs(s.referrers), (decltype(pairs(s.referrers)){{"news.example", 3}}));
  EXPECT_EQ(pairs(s.devices), (decltype(pairs(s.devices)){{"desktop", 3}}));
  EXPECT_EQ(pairs(s.browsers), (decltype(pairs(s.browsers)){{"Chrome", 3}}));
  EXPECT_EQ(pairs(s.os), (decltype(pairs(s.os)){{"Windows", 3}}));
  EXPECT_TRUE(s.top_links.empty());  // one link: no ranking

  const auto rows = exported(1, kT0, kT0 + kDay);
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const EnrichedClick& a = rows[i];
    const EnrichedClick& b = sent[i];
    EXPECT_EQ(std::tie(a.id, a.link_id, a.at, a.country, a.region, a.city, a.referrer, a.device,
                       a.browser, a.browser_version, a.os, a.bot, a.bot_reason, a.visitor,
                       a.utm_source, a.destination, a.ip_prefix),
              std::tie(b.id, b.link_id, b.at, b.country, b.region, b.city, b.referrer, b.device,
                       b.browser, b.browser_version, b.os, b.bot, b.bot_reason, b.visitor,
                       b.utm_source, b.destination, b.ip_prefix));
    EXPECT_EQ(a.unique, batch[i].unique);
  }
}

TEST_P(ClickStoreContract, ReplayingEventsStoresAndCountsNothingTwice) {
  std::vector<EnrichedClick> batch = {human(1, kT0, "a"), human(1, kT0 + kMinute, "b"),
                                      bot(1, kT0 + 2 * kMinute)};
  const std::vector<EnrichedClick> sent = batch;
  EXPECT_EQ(write(batch).inserted, 3u);
  const Stats before = query(range({1}, kT0, kT0 + kDay, Interval::hour, true));

  std::vector<EnrichedClick> replay = sent;
  const WriteResult again = write(replay);
  EXPECT_EQ(again.inserted, 0u);
  EXPECT_EQ(again.duplicates, 3u);
  EXPECT_TRUE(replay.empty());  // nothing new to publish

  // A batch mixing replayed and new events, with one new event twice: only new ones stay.
  std::vector<EnrichedClick> mixed = {sent[1], human(1, kT0 + 3 * kMinute, "c"), sent[0]};
  mixed.push_back(mixed[1]);
  const WriteResult partial = write(mixed);
  EXPECT_EQ(partial.inserted, 1u);
  EXPECT_EQ(partial.duplicates, 3u);
  ASSERT_EQ(mixed.size(), 1u);
  EXPECT_EQ(mixed[0].visitor, "c");
  EXPECT_TRUE(mixed[0].unique);

  const Stats after = query(range({1}, kT0, kT0 + kDay, Interval::hour, true));
  EXPECT_EQ(after.total, before.total + 1);
  EXPECT_EQ(after.unique, before.unique + 1);
  EXPECT_EQ(after.bots, before.bots);
  EXPECT_EQ(pairs(after.countries), (decltype(pairs(after.countries)){{"FR", 4}}));
  EXPECT_EQ(exported(1, kT0, kT0 + kDay).size(), 4u);
}

struct UniqueCase {
  const char* name;
  std::vector<EnrichedClick> clicks;  // written in this order
  bool one_batch;                     // all in one write(), else one write() per click
  std::vector<bool> unique;           // expected EnrichedClick::unique, in `clicks` order
  std::int64_t daily_uniques;         // Stats::unique over everything
};

TEST_P(ClickStoreContract, AVisitorIsUniqueOncePerLinkAndUtcDay) {
  const std::vector<UniqueCase> cases = {
      {"same day twice",
       {human(1, kT0, "a"), human(1, kT0 + 5 * kHour, "a")},
       false,
       {true, false},
       1},
      {"same day, one batch",
       {human(1, kT0, "a"), human(1, kT0 + kMinute, "a")},
       true,
       {true, false},
       1},
      {"next UTC day",
       {human(1, kT0 + 23 * kHour, "a"), human(1, kT0 + 25 * kHour, "a")},
       false,
       {true, true},
       2},
      {"two visitors", {human(1, kT0, "a"), human(1, kT0, "b")}, true, {true, true}, 2},
      {"per link", {human(1, kT0, "a"), human(2, kT0, "a")}, true, {true, true}, 2},
      {"bots never", {bot(1, kT0), bot(1, kT0 + kDay)}, true, {false, false}, 0},
      {"late arrival in a batch",
       {human(1, kT0 + kHour, "a"), human(1, kT0, "a")},
       true,
       {false, true},
       1},
  };
  std::int64_t link_base = 100;
  for (UniqueCase c : cases) {
    SCOPED_TRACE(c.name);
    for (auto& click : c.clicks) click.link_id += link_base;  // every case on fresh links
    std::vector<std::int64_t> links = {link_base + 1, link_base + 2};
    link_base += 100;
    std::vector<bool> flags;
    if (c.one_batch) {
      std::vector<EnrichedClick> batch = c.clicks;
      write(batch);
      for (const auto& click : batch) flags.push_back(click.unique);
    } else {
      for (const auto& click : c.clicks) {
        std::vector<EnrichedClick> one = {click};
        write(one);
        flags.push_back(!one.empty() && one[0].unique);
      }
    }
    EXPECT_EQ(flags, c.unique);
    const Stats s = query(range(links, kT0 - kDay, kT0 + 3 * kDay, Interval::hour, true));
    EXPECT_EQ(s.unique, c.daily_uniques);
  }
}

TEST_P(ClickStoreContract, UniqueCountsInTheBucketOfTheFirstClickOfTheDay) {
  write_copy({human(1, kT0 + 10 * kHour, "a"), human(1, kT0 + 15 * kHour, "a"),
              human(1, kT0 + 15 * kHour, "b")});
  const Stats hours = query(range({1}, kT0, kT0 + kDay, Interval::hour));
  EXPECT_EQ(series(hours.timeseries), (Series{{kT0 + 10 * kHour, 1, 1}, {kT0 + 15 * kHour, 2, 1}}));
  const Stats days = query(range({1}, kT0, kT0 + kDay, Interval::day));
  EXPECT_EQ(series(days.timeseries), (Series{{kT0, 3, 2}}));
}

TEST_P(ClickStoreContract, ExportStreamsOneLinksRangeOldestFirst) {
  std::vector<EnrichedClick> batch;
  // 2,500 clicks on ten instants, written newest first: pages of any size must split ties.
  for (int i = 0; i < 2500; ++i) batch.push_back(human(1, kT0 + (9 - i % 10) * kMinute));
  batch.push_back(human(1, kT0 + kDay));     // at `to`: excluded
  batch.push_back(human(1, kT0 - 1));        // before `from`: excluded
  batch.push_back(human(2, kT0 + kMinute));  // another link
  write(batch);
  const auto rows = exported(1, kT0, kT0 + kDay);
  ASSERT_EQ(rows.size(), 2500u);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_LE(std::tie(rows[i - 1].at, rows[i - 1].id), std::tie(rows[i].at, rows[i].id));
    ASSERT_NE(rows[i - 1].id, rows[i].id);
  }
  EXPECT_EQ(rows.front().at, kT0);
  EXPECT_EQ(rows.back().at, kT0 + 9 * kMinute);

  int seen = 0;
  auto stopped = stats().export_clicks(1, kT0, kT0 + kDay, [&](const EnrichedClick&) {
    return ++seen < 3;  // the consumer went away after three rows
  });
  EXPECT_TRUE(stopped);
  EXPECT_EQ(seen, 3);
}

TEST_P(ClickStoreContract, PruneDropsOldRawAndMinuteRowsButKeepsRollups) {
  std::vector<EnrichedClick> batch;
  for (int i = 0; i < 12'000; ++i) batch.push_back(human(1, kT0 + i, "v" + std::to_string(i)));
  batch.push_back(human(1, kT0 + 3 * kDay, "late"));
  write(batch);
  ASSERT_TRUE(clicks().prune(kT0 + kDay, kT0 + kDay));

  const auto rows = exported(1, kT0 - kDay, kT0 + 4 * kDay);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].visitor, "late");
  // Minute rows are gone before kT0 + 1 day, kept after; hourly and daily rollups stay.
  EXPECT_EQ(query(range({1}, kT0, kT0 + kHour, Interval::minute)).total, 0);
  EXPECT_EQ(query(range({1}, kT0 + 3 * kDay, kT0 + 3 * kDay + kHour, Interval::minute)).total, 1);
  const Stats kept = query(range({1}, kT0, kT0 + 4 * kDay, Interval::day));
  EXPECT_EQ(kept.total, 12'001);
  EXPECT_EQ(kept.unique, 12'001);
  EXPECT_EQ(pairs(kept.countries), (decltype(pairs(kept.countries)){{"FR", 12'001}}));
  // Pruning again finds nothing; new clicks are still counted.
  ASSERT_TRUE(clicks().prune(kT0 + kDay, kT0 + kDay));
  write_copy({human(1, kT0 + 3 * kDay + kMinute, "late")});
  EXPECT_EQ(query(range({1}, kT0, kT0 + 4 * kDay, Interval::day)).total, 12'002);
}

TEST_P(ClickStoreContract, ConcurrentWritersGetExactTotals) {
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 100;
  auto writer = [&](std::int64_t link) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<EnrichedClick> batch;
      for (int i = 0; i < kPerBatch; ++i)
        batch.push_back(human(link, kT0 + b * kMinute + i, "v" + std::to_string(i)));
      auto result = clicks().write(batch);
      EXPECT_TRUE(result) << (result ? "" : result.error().detail);
    }
  };
  std::thread a(writer, 1);
  std::thread b(writer, 2);
  a.join();
  b.join();
  const Stats s = query(range({1, 2}, kT0, kT0 + kDay));
  EXPECT_EQ(s.total, 2 * kBatches * kPerBatch);
  EXPECT_EQ(s.unique, 2 * kPerBatch);  // 100 visitors per link, each unique once that day
  using Links = std::vector<std::pair<std::int64_t, std::int64_t>>;
  EXPECT_EQ(s.top_links, (Links{{1, kBatches * kPerBatch}, {2, kBatches * kPerBatch}}));
}

}  // namespace
}  // namespace shortener::contract
