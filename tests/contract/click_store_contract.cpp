// The ClickStore + StatsStore contract: what every analytics adapter must do, as
// core/click_ports.h promises it. Stores return sparse buckets; fill_timeseries zero-fills.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "click_store_factory.h"
#include "core/stats_query.h"

namespace shortener::contract {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z, a UTC midnight
constexpr TimeUs kMinute = 60'000'000;
constexpr TimeUs kHour = 60 * kMinute;
constexpr TimeUs kDay = 24 * kHour;

// An event id as the redirect mints it: a ULID whose time is the click's. (new_event_id keeps
// a thread's ids increasing, so after a later click it would stamp an earlier one later.)
std::string event_id(TimeUs at) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  static std::atomic<std::uint64_t> counter{0};
  std::string id(26, '0');
  auto ms = static_cast<std::uint64_t>(at / 1000);
  for (int i = 9; i >= 0; --i, ms >>= 5) id[static_cast<std::size_t>(i)] = kCrockford[ms & 31];
  auto n = ++counter;
  for (int i = 25; i >= 10; --i, n >>= 5) id[static_cast<std::size_t>(i)] = kCrockford[n & 31];
  return id;
}

EnrichedClick human(std::int64_t link, TimeUs at, std::string visitor = "v1") {
  EnrichedClick c;
  c.id = event_id(at);
  c.link_id = link;
  c.at = at;
  c.country = "FR";
  c.region = "IDF";
  c.city = "Paris";
  c.referrer = "news.example";
  c.device = "desktop";
  c.browser = "Chrome";
  c.browser_version = "120";
  c.os = "Windows";
  c.visitor = std::move(visitor);
  c.utm_source = "mail";
  c.destination = "https://example.com/a";
  return c;
}

EnrichedClick bot(std::int64_t link, TimeUs at) {
  EnrichedClick c = human(link, at, "crawler");
  c.bot = true;
  c.bot_reason = "ua-list";
  c.device = "bot";
  c.browser = "Googlebot";
  return c;
}

EnrichedClick with_country(EnrichedClick c, std::string country, std::string city) {
  c.country = std::move(country);
  c.city = std::move(city);
  return c;
}

StatsQuery range(std::vector<std::int64_t> links, TimeUs from, TimeUs to,
                 Interval interval = Interval::hour, bool include_bots = false) {
  StatsQuery q;
  q.link_ids = std::move(links);
  q.from = from;
  q.to = to;
  q.interval = interval;
  q.include_bots = include_bots;
  return q;
}

std::vector<std::pair<std::string, std::int64_t>> pairs(const std::vector<Count>& counts) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const Count& c : counts) out.emplace_back(c.key, c.clicks);
  return out;
}

using Series = std::vector<std::tuple<TimeUs, std::int64_t, std::int64_t>>;  // t, clicks, unique
Series series(const std::vector<Bucket>& buckets) {
  Series out;
  for (const Bucket& b : buckets) out.emplace_back(b.t, b.clicks, b.unique);
  std::sort(out.begin(), out.end());
  return out;
}

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

TEST_P(ClickStoreContract, BotsAreExcludedUnlessAskedForAndAlwaysReported) {
  write_copy({human(1, kT0, "a"), human(1, kT0 + kMinute, "b"), bot(1, kT0 + 2 * kMinute)});
  const Stats without = query(range({1}, kT0, kT0 + kDay));
  EXPECT_EQ(without.total, 2);
  EXPECT_EQ(without.bots, 1);
  EXPECT_EQ(without.unique, 2);
  EXPECT_EQ(series(without.timeseries), (Series{{kT0, 2, 2}}));
  EXPECT_EQ(pairs(without.devices), (decltype(pairs(without.devices)){{"desktop", 2}}));

  const Stats with = query(range({1}, kT0, kT0 + kDay, Interval::hour, true));
  EXPECT_EQ(with.total, 3);
  EXPECT_EQ(with.bots, 1);
  EXPECT_EQ(with.unique, 2);  // a bot is never a unique visitor
  EXPECT_EQ(series(with.timeseries), (Series{{kT0, 3, 2}}));
  EXPECT_EQ(pairs(with.devices), (decltype(pairs(with.devices)){{"desktop", 2}, {"bot", 1}}));
}

TEST_P(ClickStoreContract, DimensionsListTheTopValuesByClicksThenKey) {
  std::vector<EnrichedClick> batch;
  const std::vector<std::pair<const char*, int>> countries = {
      {"JP", 1}, {"US", 2}, {"FR", 3}, {"DE", 2}, {"BR", 1}};
  for (const auto& [country, n] : countries)
    for (int i = 0; i < n; ++i) batch.push_back(with_country(human(1, kT0, "v"), country, "X"));
  batch.push_back(with_country(human(1, kT0, "v"), "unknown", "unknown"));
  write(batch);
  StatsQuery q = range({1}, kT0, kT0 + kDay);
  q.top = 4;
  const Stats s = query(q);
  using P = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(pairs(s.countries), (P{{"FR", 3}, {"DE", 2}, {"US", 2}, {"BR", 1}}));
  EXPECT_EQ(pairs(s.cities), (P{{"X, FR", 3}, {"X, DE", 2}, {"X, US", 2}, {"X, BR", 1}}));
  q.top = 10;
  const Stats all = query(q);
  EXPECT_EQ(all.countries.size(), 6u);
  EXPECT_EQ(all.cities.back().key, "unknown");  // an unknown city is not "unknown, CC"
}

TEST_P(ClickStoreContract, DimensionsCoverWholeUtcDaysOfTheRange) {
  write_copy({human(1, kT0 + 23 * kHour, "a"), human(1, kT0 + kDay + kHour, "a")});
  // One hour of day 0: the series sees that hour only, dimensions see all of day 0.
  const Stats s = query(range({1}, kT0 + kHour, kT0 + 2 * kHour));
  EXPECT_EQ(s.total, 0);
  EXPECT_EQ(pairs(s.countries), (decltype(pairs(s.countries)){{"FR", 1}}));
}

struct SeriesCase {
  Interval interval;
  Series sparse;
};

TEST_P(ClickStoreContract, TimeSeriesBucketsStartAtTheirIntervalAndFillWithZeros) {
  write_copy({human(1, kT0 + 90'000'000, "a"), human(1, kT0 + 150'000'000, "b"),
              human(1, kT0 + kHour + 5 * kMinute, "a"), human(1, kT0 + kDay + 2 * kHour, "a"),
              bot(1, kT0 + kDay + 2 * kHour)});
  const std::vector<SeriesCase> cases = {
      {Interval::minute,
       {{kT0 + kMinute, 1, 1},
        {kT0 + 2 * kMinute, 1, 1},
        {kT0 + 65 * kMinute, 1, 0},
        {kT0 + kDay + 2 * kHour, 1, 1}}},
      {Interval::hour, {{kT0, 2, 2}, {kT0 + kHour, 1, 0}, {kT0 + kDay + 2 * kHour, 1, 1}}},
      {Interval::day, {{kT0, 3, 2}, {kT0 + kDay, 1, 1}}},
  };
  for (const SeriesCase& c : cases) {
    SCOPED_TRACE(std::string(interval_name(c.interval)));
    const StatsQuery q = range({1}, kT0, kT0 + 2 * kDay, c.interval);
    Stats s = query(q);
    EXPECT_EQ(series(s.timeseries), c.sparse);
    EXPECT_EQ(s.total, 4);
    EXPECT_EQ(s.bots, 1);
    fill_timeseries(s, q);
    ASSERT_EQ(s.timeseries.size(), static_cast<std::size_t>(2 * kDay / interval_us(c.interval)));
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < s.timeseries.size(); ++i) {
      EXPECT_EQ(s.timeseries[i].t, kT0 + static_cast<TimeUs>(i) * interval_us(c.interval));
      sum += s.timeseries[i].clicks;
    }
    EXPECT_EQ(sum, 4);
  }
}

TEST_P(ClickStoreContract, AccountWideStatsSumLinksAndRankThem) {
  write_copy({human(1, kT0, "a"), human(1, kT0, "b"), human(1, kT0, "c"), human(2, kT0, "a"),
              human(3, kT0, "a"), human(3, kT0, "b"), bot(2, kT0), bot(2, kT0), bot(2, kT0)});
  // An account's links can number thousands: more than a statement has parameters.
  std::vector<std::int64_t> account;
  for (std::int64_t id = 1; id <= 40'000; ++id) account.push_back(id);
  const Stats s = query(range(account, kT0, kT0 + kDay));
  EXPECT_EQ(s.total, 6);
  EXPECT_EQ(s.unique, 6);
  EXPECT_EQ(s.bots, 3);
  using Links = std::vector<std::pair<std::int64_t, std::int64_t>>;
  EXPECT_EQ(s.top_links, (Links{{1, 3}, {3, 2}, {2, 1}}));
  EXPECT_EQ(pairs(s.countries), (decltype(pairs(s.countries)){{"FR", 6}}));
  const Stats with_bots = query(range({1, 2, 3}, kT0, kT0 + kDay, Interval::day, true));
  EXPECT_EQ(with_bots.top_links, (Links{{2, 4}, {1, 3}, {3, 2}}));
  EXPECT_EQ(query(range({2, 3}, kT0, kT0 + kDay)).total, 3);
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
