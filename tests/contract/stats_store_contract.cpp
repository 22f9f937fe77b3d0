// The StatsStore contract: what every analytics adapter must answer, as core/click_ports.h
// promises it. Stores return sparse buckets; fill_timeseries zero-fills.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "click_store_factory.h"
#include "click_test_data.h"
#include "core/stats_query.h"

namespace shortener::contract {
namespace {

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

// Long ranges: an adapter may pre-sum days into larger periods; whatever it reads, every day of
// the range must count once. One click a day for 40 days, its country naming its day.
TEST_P(ClickStoreContract, DimensionsCountEveryDayOfLongRangesExactlyOnce) {
  std::vector<EnrichedClick> batch;
  for (int d = 0; d < 40; ++d)
    batch.push_back(
        with_country(human(1, kT0 + d * kDay + 12 * kHour), "D" + std::to_string(d), "unknown"));
  write(batch);
  const std::vector<std::pair<int, int>> day_ranges = {
      {0, 40}, {0, 1}, {3, 17}, {5, 13}, {6, 14}, {7, 9}, {1, 39}, {12, 36}, {39, 40}, {-5, 45}};
  for (const auto& [first, end] : day_ranges) {
    SCOPED_TRACE("days " + std::to_string(first) + ".." + std::to_string(end));
    StatsQuery q = range({1}, kT0 + first * kDay, kT0 + end * kDay, Interval::day);
    q.top = 100;
    const Stats s = query(q);
    std::vector<std::string> days;
    for (const Count& c : s.countries) {
      EXPECT_EQ(c.clicks, 1) << c.key;
      days.push_back(c.key);
    }
    std::vector<std::string> expected;
    for (int d = std::max(first, 0); d < std::min(end, 40); ++d)
      expected.push_back("D" + std::to_string(d));
    std::sort(days.begin(), days.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(days, expected);
    EXPECT_EQ(s.total, static_cast<std::int64_t>(expected.size()));
  }
}

}  // namespace
}  // namespace shortener::contract
