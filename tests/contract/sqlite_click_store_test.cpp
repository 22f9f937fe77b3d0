// What only the SQLite analytics adapter promises: its packed dimension counts (dim_counts.h)
// sum exactly, and a corrupt blob is an error value, never a crash or a wrong answer.
#include "storage/sqlite/sqlite_click_store.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "click_test_data.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/dim_counts.h"
#include "storage/sqlite/sqlite_store.h"
#include "temp_dir.h"

namespace shortener {
namespace {

using contract::human;
using contract::kDay;
using contract::kT0;
using sqlite::DimCountsBuilder;
using sqlite::DimTotals;

std::string blob(std::initializer_list<std::tuple<sqlite::Dim, std::string, int, int>> counts) {
  DimCountsBuilder builder;
  for (const auto& [dim, value, clicks, bots] : counts) builder.add(dim, value, clicks, bots);
  return builder.encode();
}

std::vector<std::pair<std::string, std::int64_t>> top(const DimTotals& totals, sqlite::Dim dim,
                                                      bool bots) {
  return contract::pairs(totals.top(dim, 10, bots));
}

TEST(DimCountsTest, MergeSumsEqualValuesAndKeepsTheRest) {
  const std::string a = blob({{storage::kCountry, "FR", 1, 0}, {storage::kCity, "Paris, FR", 2, 0}});
  const std::string b = blob({{storage::kCountry, "DE", 1, 0}, {storage::kCountry, "FR", 3, 1}});
  auto merged = sqlite::merge_dim_counts(a, b);
  ASSERT_TRUE(merged);
  EXPECT_EQ(*sqlite::merge_dim_counts(b, a), *merged);  // order of arguments does not matter
  EXPECT_EQ(*sqlite::merge_dim_counts(*merged, ""), *merged);
  DimTotals totals;
  ASSERT_TRUE(totals.add(*merged));
  using Pairs = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(top(totals, storage::kCountry, false), (Pairs{{"FR", 4}, {"DE", 1}}));
  EXPECT_EQ(top(totals, storage::kCountry, true), (Pairs{{"FR", 5}, {"DE", 1}}));
  EXPECT_EQ(top(totals, storage::kCity, false), (Pairs{{"Paris, FR", 2}}));
  EXPECT_TRUE(top(totals, storage::kOs, false).empty());
}

TEST(DimCountsTest, ValuesAreCountedUnderTheirDimensionKey) {
  struct Case {
    const char* name;
    std::string country, city, referrer;
    std::string want_city, want_referrer;
  };
  const std::vector<Case> cases = {
      {"city with country", "FR", "Paris", "a.example", "Paris, FR", "a.example"},
      {"unknown city", "FR", "unknown", "direct", "unknown", "direct"},
      {"unknown country", "unknown", "Paris", "", "Paris", "unknown"},
      {"empty city", "US", "", "x", "unknown", "x"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EnrichedClick click = human(1, kT0);
    click.country = c.country;
    click.city = c.city;
    click.referrer = c.referrer;
    EXPECT_EQ(storage::dim_value(click, storage::kCity), c.want_city);
    EXPECT_EQ(storage::dim_value(click, storage::kReferrer), c.want_referrer);
  }
}

TEST(DimCountsTest, MalformedBlobsAreErrors) {
  const std::string good = blob({{storage::kCountry, "FR", 1, 0}});
  const std::vector<std::pair<const char*, std::string>> hostile = {
      {"unknown dimension", std::string("\x09\x02"
                                        "FR\x01\x00",
                                        6)},
      {"value past the end", std::string("\x00\x7f"
                                         "FR\x01\x00",
                                         6)},
      {"truncated count", good.substr(0, good.size() - 1)},
      {"endless varint", std::string("\x00\x02"
                                     "FR",
                                     4) +
                             std::string(11, '\xff')},
      {"trailing garbage", good + "\x01"},
  };
  for (const auto& [name, bytes] : hostile) {
    SCOPED_TRACE(name);
    auto merged = sqlite::merge_dim_counts(good, bytes);
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().code, Errc::internal);
    DimTotals totals;
    auto added = totals.add(bytes);
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().code, Errc::internal);
  }
}

TEST(SqliteClickStoreTest, ACorruptRollupIsAnErrorForReadsAndWrites) {
  contract::TempDir dir;
  const std::string path = (dir.path() / "shortener.db").string();
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store) << store.error().detail;
  auto clicks = (*store)->open_click_store();
  ASSERT_TRUE(clicks) << clicks.error().detail;
  std::vector<EnrichedClick> batch = {human(1, kT0)};
  ASSERT_TRUE((*clicks)->write(batch));

  auto raw = sqlite::Connection::open(path, {});
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->exec("UPDATE rollup_daily_dims SET counts = x'00ff'", "corrupt"));
  ASSERT_TRUE(raw->exec("UPDATE rollup_block_dims SET counts = x'00ff'", "corrupt"));

  StatsQuery q = contract::range({1}, kT0, kT0 + kDay);
  auto stats = (*clicks)->stats(q);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, Errc::internal);
  std::vector<EnrichedClick> more = {human(1, kT0 + 1)};
  auto written = (*clicks)->write(more);  // merging into the corrupt blob fails: rolled back
  ASSERT_FALSE(written);
  int rows = 0;
  ASSERT_TRUE((*clicks)->export_clicks(1, kT0, kT0 + kDay, [&](const EnrichedClick&) {
    ++rows;
    return true;
  }));
  EXPECT_EQ(rows, 1);
}

}  // namespace
}  // namespace shortener
