// What only the SQLite analytics adapter promises: its packed dimension counts (dim_counts.h)
// sum exactly, and a corrupt blob is an error value, never a crash or a wrong answer.
#include "storage/sqlite/sqlite_click_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "click_test_data.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/dim_counts.h"
#include "storage/sqlite/migrations.h"
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

// A SQLite file opened as `serve` opens it (migrations applied), with its analytics store;
// null members (and a test failure) when it cannot be.
struct Analytics {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<SqliteClickStore> clicks;
};

Analytics open_analytics(const std::string& path) {
  auto store = SqliteStore::open(path);
  EXPECT_TRUE(store) << store.error().detail;
  if (!store) return {};
  auto clicks = (*store)->open_click_store();
  EXPECT_TRUE(clicks) << clicks.error().detail;
  if (!clicks) return {};
  return {std::move(*store), std::move(*clicks)};
}

TEST(DimCountsTest, MergeSumsEqualValuesAndKeepsTheRest) {
  const std::string a =
      blob({{storage::kCountry, "FR", 1, 0}, {storage::kCity, "Paris, FR", 2, 0}});
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
  Analytics db = open_analytics(path);
  ASSERT_TRUE(db.clicks);
  SqliteClickStore& clicks = *db.clicks;
  std::vector<EnrichedClick> batch = {human(1, kT0)};
  ASSERT_TRUE(clicks.write(batch));

  auto raw = sqlite::Connection::open(path, {});
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->exec("UPDATE rollup_daily_dims SET counts = x'00ff'", "corrupt"));
  ASSERT_TRUE(raw->exec("UPDATE rollup_block_dims SET counts = x'00ff'", "corrupt"));

  StatsQuery q = contract::range({1}, kT0, kT0 + kDay);
  auto stats = clicks.stats(q);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, Errc::internal);
  // Appending parts reads no blob; the batch whose part folds them meets the corrupt one and
  // fails as a whole (rolled back: its raw row is not kept either).
  int written = 1;
  for (int i = 1; i < 70; ++i) {
    std::vector<EnrichedClick> more = {human(1, kT0 + i)};
    more[0].id = "01KDW00000000000000000C" + std::to_string(100 + i);
    auto result = clicks.write(more);
    if (!result) {
      EXPECT_EQ(result.error().code, Errc::internal);
      break;
    }
    ++written;
  }
  EXPECT_LT(written, 70);
  int rows = 0;
  ASSERT_TRUE(clicks.export_clicks(1, kT0, kT0 + kDay, [&](const EnrichedClick&) {
    ++rows;
    return true;
  }));
  EXPECT_EQ(rows, written);
}

// Who was counted unique lives in the raw rows: a reopened store (a restart) knows it, for any
// day whose raw rows are kept, and a batch that fails leaves no claimed visitor behind.
TEST(SqliteClickStoreTest, FirstVisitsSurviveARestartAndAFailedBatch) {
  contract::TempDir dir;
  const std::string path = (dir.path() / "shortener.db").string();
  const auto unique_of = [](std::vector<EnrichedClick> batch, SqliteClickStore& clicks) {
    auto written = clicks.write(batch);
    EXPECT_TRUE(written) << written.error().detail;
    std::vector<bool> unique;
    for (const EnrichedClick& c : batch) unique.push_back(c.unique);
    return unique;
  };
  {
    Analytics db = open_analytics(path);
    ASSERT_TRUE(db.clicks);
    SqliteClickStore& clicks = *db.clicks;
    EXPECT_EQ(unique_of({human(1, kT0, "00000000000000aa"), human(1, kT0 + 1, "not-hex")}, clicks),
              (std::vector<bool>{true, true}));
    // A batch rolled back claims nobody: a corrupt 31st part makes the fold of the next fail.
    auto raw = sqlite::Connection::open(path, {});
    ASSERT_TRUE(raw);
    const std::string day2 = std::to_string(kT0 + kDay);
    ASSERT_TRUE(raw->exec("INSERT INTO rollup_daily_dims VALUES (1, " + day2 + ", 31, x'00ff')",
                          "corrupt"));
    std::vector<EnrichedClick> failing = {human(1, kT0 + kDay + 10, "00000000000000cc")};
    auto failed = clicks.write(failing);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Errc::internal);
    ASSERT_TRUE(raw->exec("DELETE FROM rollup_daily_dims WHERE counts = x'00ff'", "repair"));
    EXPECT_EQ(unique_of({human(1, kT0 + kDay + 11, "00000000000000cc")}, clicks),
              (std::vector<bool>{true}));
  }
  Analytics db = open_analytics(path);
  ASSERT_TRUE(db.clicks);
  SqliteClickStore& clicks = *db.clicks;
  EXPECT_EQ(unique_of({human(1, kT0 + 2, "00000000000000aa"), human(1, kT0 + 3, "not-hex"),
                       human(1, kT0 + 4, "00000000000000bb"), human(2, kT0 + 5, "not-hex"),
                       human(1, kT0 + kDay + 20, "00000000000000cc")},
                      clicks),
            (std::vector<bool>{false, false, true, true, false}));
}

// Workers writing at once share transactions (group commit): every event is stored once even
// when two workers hold it, each visitor is unique once per link and day, and each caller gets
// back exactly the clicks its own batch stored.
TEST(SqliteClickStoreTest, ConcurrentWritersShareTransactionsAndCountExactly) {
  contract::TempDir dir;
  Analytics db = open_analytics((dir.path() / "shortener.db").string());
  ASSERT_TRUE(db.clicks);
  SqliteClickStore& clicks = *db.clicks;
  constexpr int kThreads = 4, kBatches = 30, kPerBatch = 50;
  // Event n is written by threads n % 4 and (n + 1) % 4; visitors repeat every 37 events.
  const auto event = [](int n) {
    EnrichedClick c = human(1 + n % 3, kT0 + n * 1000, "v" + std::to_string(n % 37));
    c.id = c.id.substr(0, 10) + std::string(16, '0');  // the same id in both threads' copies
    c.bot = n % 11 == 0;
    return c;
  };
  constexpr int kEvents = kThreads * kBatches * kPerBatch / 2;
  std::atomic<std::size_t> inserted = 0, duplicates = 0, unique = 0;
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int> mine;
      for (int n = 0; n < kEvents; ++n)
        if (n % kThreads == t || (n + 1) % kThreads == t) mine.push_back(n);
      for (std::size_t at = 0; at < mine.size(); at += kPerBatch) {
        std::vector<EnrichedClick> batch;
        for (std::size_t k = at; k < std::min(mine.size(), at + kPerBatch); ++k)
          batch.push_back(event(mine[k]));
        const std::size_t sent = batch.size();
        auto written = clicks.write(batch);
        if (!written) {
          ++failures;
          continue;
        }
        inserted += written->inserted;
        duplicates += written->duplicates;
        if (batch.size() != written->inserted || sent != written->inserted + written->duplicates)
          ++failures;
        for (const EnrichedClick& c : batch) unique += c.unique ? 1 : 0;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(inserted, static_cast<std::size_t>(kEvents));
  EXPECT_EQ(duplicates, static_cast<std::size_t>(kEvents));
  std::set<std::pair<std::int64_t, std::string>> visitors;  // all in one UTC day (3 s)
  std::int64_t humans = 0;
  for (int n = 0; n < kEvents; ++n) {
    const EnrichedClick c = event(n);
    if (c.bot) continue;
    ++humans;
    visitors.emplace(c.link_id, c.visitor);
  }
  EXPECT_EQ(unique, visitors.size());
  auto stats = clicks.stats(contract::range({1, 2, 3}, kT0, kT0 + kDay));
  ASSERT_TRUE(stats) << stats.error().detail;
  EXPECT_EQ(stats->total, humans);
  EXPECT_EQ(stats->unique, static_cast<std::int64_t>(visitors.size()));
  EXPECT_EQ(stats->bots, kEvents - humans);
  ASSERT_FALSE(stats->countries.empty());
  EXPECT_EQ(stats->countries[0].clicks, humans);  // dimension parts summed once per event
}

// A file written before migration 3 (a `visitors` table, one dimension row per period) keeps
// its analytics: the rows become part 0, and the visitors already counted stay counted.
TEST(SqliteClickStoreTest, MigrationThreeKeepsAnalyticsOfAnOlderFile) {
  contract::TempDir dir;
  const std::string path = (dir.path() / "shortener.db").string();
  {
    auto db = sqlite::Connection::open(path, {});
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA journal_mode = WAL", "wal"));
    auto applied = sqlite::migrate(*db, sqlite::migrations().subspan(0, 2));
    ASSERT_TRUE(applied) << applied.error().detail;
    // What the version-2 writer left for two clicks of visitor "00000000000000aa" on link 1 at
    // kT0 (the first unique) and kT0 + 1 s (not), from France and Germany.
    const std::string both =
        blob({{storage::kCountry, "DE", 1, 0}, {storage::kCountry, "FR", 1, 0}});
    const auto hex = [](const std::string& bytes) {
      std::string out;
      for (unsigned char c : bytes) {
        static constexpr char kDigits[] = "0123456789abcdef";
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
      }
      return out;
    };
    const std::string day = std::to_string(kT0),
                      block = std::to_string(kT0 / (8 * kDay) * 8 * kDay);
    const std::string sql =
        "INSERT INTO clicks (id, link_id, at, country, region, city, referrer, device, browser, "
        "browser_version, os, bot, bot_reason, visitor, utm_source, destination, ip_prefix, "
        "first_of_day) VALUES "
        "('01KDW0000000000000000000A1', 1, " +
        day +
        ", 'FR', '', '', 'direct', 'desktop', "
        "'Chrome', '120', 'Linux', 0, '', '00000000000000aa', '', 'https://example.com/', '', 1), "
        "('01KDW0000000000000000000A2', 1, " +
        std::to_string(kT0 + 1'000'000) +
        ", 'DE', '', '', "
        "'direct', 'desktop', 'Chrome', '120', 'Linux', 0, '', '00000000000000aa', '', "
        "'https://example.com/', '', 0);"
        "INSERT INTO visitors VALUES (" +
        day +
        ", 1, '00000000000000aa');"
        "INSERT INTO rollup_hourly VALUES (1, " +
        day +
        ", 2, 1, 0);"
        "INSERT INTO rollup_daily_dims VALUES (1, " +
        day + ", x'" + hex(both) +
        "');"
        "INSERT INTO rollup_block_dims VALUES (1, " +
        block + ", x'" + hex(both) + "');";
    ASSERT_TRUE(db->exec(sql, "version-2 rows"));
  }
  Analytics db = open_analytics(path);  // applies migration 3
  ASSERT_TRUE(db.clicks);
  SqliteClickStore& clicks = *db.clicks;
  const auto countries = [&](TimeUs from, TimeUs to) {
    auto stats = clicks.stats(contract::range({1}, from, to));
    EXPECT_TRUE(stats) << stats.error().detail;
    return stats ? contract::pairs(stats->countries)
                 : std::vector<std::pair<std::string, std::int64_t>>{};
  };
  using Pairs = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(countries(kT0, kT0 + kDay), (Pairs{{"DE", 1}, {"FR", 1}}));
  EXPECT_EQ(countries(kT0 - 20 * kDay, kT0 + 20 * kDay), (Pairs{{"DE", 1}, {"FR", 1}}));
  // The visitor counted before the upgrade is not unique again that day; a new one is.
  std::vector<EnrichedClick> batch = {human(1, kT0 + 2'000'000, "00000000000000aa"),
                                      human(1, kT0 + 3'000'000, "00000000000000bb")};
  ASSERT_TRUE(clicks.write(batch));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_FALSE(batch[0].unique);
  EXPECT_TRUE(batch[1].unique);
  auto stats = clicks.stats(contract::range({1}, kT0, kT0 + kDay));
  ASSERT_TRUE(stats) << stats.error().detail;
  EXPECT_EQ(stats->total, 4);
  EXPECT_EQ(stats->unique, 2);
  EXPECT_EQ(countries(kT0 - 20 * kDay, kT0 + 20 * kDay), (Pairs{{"FR", 3}, {"DE", 1}}));
}

// Each batch appends one dimension part per (link, day); every 32nd folds them into one and
// hands their sum to the day's block as a part; prune folds what is left of settled days and
// blocks. Stats never change, whether a range reads days or blocks.
TEST(SqliteClickStoreTest, DimensionPartsAreFoldedWithoutChangingStats) {
  contract::TempDir dir;
  const std::string path = (dir.path() / "shortener.db").string();
  Analytics db = open_analytics(path);
  ASSERT_TRUE(db.clicks);
  SqliteClickStore& clicks = *db.clicks;
  constexpr int kBatches = 70;
  for (int i = 0; i < kBatches; ++i) {
    std::vector<EnrichedClick> batch = {human(1, kT0 + i * 1000)};
    batch[0].id = "01KDW00000000000000000B" + std::to_string(100 + i);
    batch[0].country = i % 2 == 0 ? "FR" : "DE";
    ASSERT_TRUE(clicks.write(batch));
  }
  auto raw = sqlite::Connection::open(path, {});
  ASSERT_TRUE(raw);
  const auto count = [&](std::string_view table) {
    auto stmt = raw->prepare("SELECT count(*) FROM " + std::string(table) + " WHERE link_id = 1");
    EXPECT_TRUE(stmt);
    sqlite::Query q(*stmt, raw->get());
    EXPECT_TRUE(q.step());
    return q.int64(0);
  };
  const auto check_stats = [&] {
    StatsQuery q = contract::range({1}, kT0, kT0 + kDay);
    auto stats = clicks.stats(q);
    ASSERT_TRUE(stats) << stats.error().detail;
    ASSERT_EQ(stats->countries.size(), 2u);
    EXPECT_EQ(stats->countries[0].key, "DE");  // ties by value
    EXPECT_EQ(stats->countries[0].clicks, kBatches / 2);
    EXPECT_EQ(stats->countries[1].clicks, kBatches / 2);
    EXPECT_EQ(stats->total, kBatches);
    // A 30-day range reads whole 8-day blocks: the same counts.
    auto wide = clicks.stats(contract::range({1}, kT0 - 15 * kDay, kT0 + 15 * kDay));
    ASSERT_TRUE(wide) << wide.error().detail;
    ASSERT_EQ(wide->countries.size(), 2u);
    EXPECT_EQ(wide->countries[0].clicks + wide->countries[1].clicks, kBatches);
  };
  check_stats();
  EXPECT_EQ(count("rollup_daily_dims"), kBatches % 32 + 1);  // folded at 32 and 64 (part 0 + 6)
  EXPECT_EQ(count("rollup_block_dims"), kBatches / 32);      // one part per fold of the day
  ASSERT_TRUE(clicks.prune(0, kT0 + 20 * kDay));             // the day and its block are settled
  EXPECT_EQ(count("rollup_daily_dims"), 1);
  EXPECT_EQ(count("rollup_block_dims"), 1);
  check_stats();
}

}  // namespace
}  // namespace shortener
