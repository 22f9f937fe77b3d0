// The SQLite analytics store (SqliteClickStore) under load.
//
// BM_Stats/*: stats() + fill_timeseries for one link seeded as if it had 10,000,000 clicks over
// 90 days, written straight into the rollup tables (hourly rows for 90 days, minute rows for the
// last 48 h, daily dimension rows with ~200 countries, ~2,000 cities, 50 referrers, 5 devices,
// 40 browsers, 20 OS), beside 100 quieter links. Reports p50_ms / p99_ms per call; the target
// is p99 <= 20 ms. BM_WriteBatch/links:N: write() of batches of 1,000 enriched clicks with a
// realistic mix (N Zipf-ranked links, Zipf-skewed values, 3 % bots, random visitors);
// items_per_second is clicks/s (target >= 100,000), p50_ms/p99_ms the time per batch (the
// writer lock is held that long).
//
//   build-analytics/bench/stats/stats_bench [--benchmark_filter=Stats]
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/stats_query.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/dim_counts.h"
#include "storage/sqlite/sqlite_click_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace shortener {
namespace {

using sqlite::Connection;
using sqlite::Query;

constexpr TimeUs kMinute = 60'000'000;
constexpr TimeUs kHour = 60 * kMinute;
constexpr TimeUs kDay = 24 * kHour;
constexpr TimeUs kBlock = 8 * kDay;             // rollup_block_dims period
constexpr TimeUs kEnd = 1'775'001'600'000'000;  // 2026-04-01T00:00:00Z: the seeded data ends here
constexpr int kDays = 90;
constexpr std::int64_t kHotLink = 1;
constexpr std::int64_t kHotClicks = 10'000'000;
constexpr int kQuietLinks = 100;  // links 2..101: make the tables (and B-trees) realistic sizes

std::string country_code(int i) {
  return {static_cast<char>('A' + i % 26), static_cast<char>('A' + i / 26 % 26)};
}

// The dimensions with realistic cardinalities, and the i-th value of each (rank i by Zipf).
struct DimSpec {
  const char* name;
  int values;
  std::string (*value)(int i);
};
constexpr DimSpec kDims[] = {
    {"country", 200, country_code},
    {"city", 2000, [](int i) { return "City " + std::to_string(i) + ", " + country_code(i); }},
    {"referrer", 50, [](int i) { return "referrer" + std::to_string(i) + ".example.com"; }},
    {"device", 5,
     [](int i) {
       static const char* const kDevices[] = {"desktop", "mobile", "tablet", "other", "bot"};
       return std::string(kDevices[i]);
     }},
    {"browser", 40, [](int i) { return "Browser " + std::to_string(i); }},
    {"os", 20, [](int i) { return "OS " + std::to_string(i); }},
};

// A data directory removed with the object.
class BenchDir {
 public:
  BenchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "stats-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  std::string db() const { return (path_ / "shortener.db").string(); }

 private:
  std::filesystem::path path_;
};

struct Db {
  BenchDir dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<SqliteClickStore> clicks;

  Db() {
    auto opened = SqliteStore::open(dir.db());
    if (!opened) throw std::runtime_error(opened.error().detail);
    store = std::move(*opened);
    auto analytics = store->open_click_store();
    if (!analytics) throw std::runtime_error(analytics.error().detail);
    clicks = std::move(*analytics);
  }
};

// Zipf(1) weights over n ranks, normalised to sum to 1.
std::vector<double> zipf_weights(int n) {
  std::vector<double> w(static_cast<std::size_t>(n));
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += w[static_cast<std::size_t>(i)] = 1.0 / (i + 1);
  for (double& x : w) x /= sum;
  return w;
}

void exec(Connection& db, std::string_view sql) {
  if (auto ok = db.exec(sql, "seed"); !ok) throw std::runtime_error(ok.error().detail);
}

void insert(Connection& db, const sqlite::Statement& stmt, std::int64_t link, TimeUs t,
            std::int64_t clicks, std::int64_t uniques, std::int64_t bots) {
  Query q(stmt, db.get());
  q.bind(1, link).bind(2, t).bind(3, clicks).bind(4, uniques).bind(5, bots);
  if (auto ok = q.finish(); !ok) throw std::runtime_error(ok.error().detail);
}

// Rollup rows of one link: `per_day` clicks a day with a daily cycle, `value_share` of each
// dimension's values every day (all of them for the hot link: with 111k clicks a day, even the
// rarest of 2,000 Zipf-ranked cities shows up daily).
void seed_link(Connection& db, std::int64_t link, std::int64_t per_day, double value_share) {
  auto hourly = db.prepare("INSERT INTO rollup_hourly VALUES (?1, ?2, ?3, ?4, ?5)");
  auto minutely = db.prepare("INSERT INTO rollup_minutely VALUES (?1, ?2, ?3, ?4, ?5)");
  // Days folded already; each day of a block one part of it (seeded_db() folds settled blocks).
  auto days = db.prepare("INSERT INTO rollup_daily_dims VALUES (?1, ?2, 0, ?3)");
  auto blocks = db.prepare("INSERT INTO rollup_block_dims VALUES (?1, ?2, ?4, ?3)");
  auto increments = db.prepare("INSERT INTO rollup_daily_dims VALUES (?1, ?2, ?3, ?4)");
  if (!hourly || !minutely || !days || !blocks || !increments)
    throw std::runtime_error("prepare seed");
  for (int d = 0; d < kDays; ++d) {
    const TimeUs day = kEnd - (kDays - d) * kDay;
    for (int h = 0; h < 24; ++h) {
      const double cycle = 1.0 + 0.6 * std::sin((h - 9) * M_PI / 12);  // peaks mid-afternoon
      const auto clicks = static_cast<std::int64_t>(per_day * cycle / 24);
      insert(db, *hourly, link, day + h * kHour, clicks, clicks * 35 / 100, clicks / 25);
      if (day + h * kHour < kEnd - 2 * kDay) continue;  // minutes are kept 48 h
      for (int m = 0; m < 60; ++m)
        insert(db, *minutely, link, day + h * kHour + m * kMinute, clicks / 60, clicks * 35 / 6000,
               clicks / 1500);
    }
    sqlite::DimCountsBuilder counts;
    for (std::size_t dim = 0; dim < std::size(kDims); ++dim) {
      const int n = std::max(1, static_cast<int>(kDims[dim].values * value_share));
      const std::vector<double> weights = zipf_weights(n);
      for (int i = 0; i < n; ++i) {
        const auto clicks = std::max<std::int64_t>(
            1, std::llround(static_cast<double>(per_day) * weights[static_cast<std::size_t>(i)]));
        counts.add(static_cast<sqlite::Dim>(dim), kDims[dim].value(i), clicks, clicks / 25);
      }
    }
    const std::string blob = counts.encode();
    for (auto [stmt, start] :
         {std::pair{&*days, day}, std::pair{&*blocks, day / kBlock * kBlock}}) {
      Query q(*stmt, db.get());
      q.bind(1, link).bind(2, start).bind_blob(3, blob);
      if (stmt == &*blocks) q.bind(4, (day - start) / kDay + 1);
      if (auto ok = q.finish(); !ok) throw std::runtime_error(ok.error().detail);
    }
    // The last days as a busy writer leaves them between folds: 31 unfolded parts each (a range
    // reads them on top of the blocks), each a transaction's share of the day's values.
    // seeded_db()'s prune() folds those of the day before the last, as retention would.
    if (day < kEnd - 2 * kDay) continue;
    sqlite::DimCountsBuilder share;
    for (std::size_t dim = 0; dim < std::size(kDims); ++dim) {
      const int n = std::max(1, static_cast<int>(kDims[dim].values * value_share) / 20);
      for (int i = 0; i < n; ++i)
        share.add(static_cast<sqlite::Dim>(dim), kDims[dim].value(i), 1, 0);
    }
    const std::string part = share.encode();
    for (int p = 1; p <= 31; ++p) {
      Query q(*increments, db.get());
      q.bind(1, link).bind(2, day).bind(3, p).bind_blob(4, part);
      if (auto ok = q.finish(); !ok) throw std::runtime_error(ok.error().detail);
    }
  }
}

Db& seeded_db() {
  static Db* db = [] {
    auto* fresh = new Db();  // lives for the process: the benchmarks share it
    auto conn = Connection::open(fresh->dir.db(), {});
    if (!conn) throw std::runtime_error(conn.error().detail);
    exec(*conn, "BEGIN");
    seed_link(*conn, kHotLink, kHotClicks / kDays, 1.0);
    for (int i = 0; i < kQuietLinks; ++i) seed_link(*conn, 2 + i, 2'000, 0.01);
    exec(*conn, "COMMIT");
    // As retention leaves them: past blocks folded, the current one in parts.
    if (auto ok = fresh->clicks->prune(0, kEnd - 2 * kDay); !ok)
      throw std::runtime_error(ok.error().detail);
    exec(*conn, "PRAGMA wal_checkpoint(TRUNCATE)");
    return fresh;
  }();
  return *db;
}

void report_percentiles(benchmark::State& state, std::vector<double>& ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) { return ms[static_cast<std::size_t>(p * (ms.size() - 1))]; };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = ms.back();
}

void BM_Stats(benchmark::State& state, Interval interval, TimeUs range, int links) {
  Db& db = seeded_db();
  StatsQuery query;
  for (int i = 0; i < links; ++i) query.link_ids.push_back(kHotLink + i);
  query.from = kEnd - range;
  query.to = kEnd;
  query.interval = interval;
  std::vector<double> ms;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto stats = db.clicks->stats(query);
    if (!stats) {
      state.SkipWithError(stats.error().detail.c_str());
      break;
    }
    fill_timeseries(*stats, query);
    benchmark::DoNotOptimize(stats->total);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  report_percentiles(state, ms);
}

BENCHMARK_CAPTURE(BM_Stats, days90_by_day, Interval::day, 90 * kDay, 1)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Stats, days7_by_hour, Interval::hour, 7 * kDay, 1)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Stats, hours6_by_minute, Interval::minute, 6 * kHour, 1)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
// Account-wide: the hot link and its 100 quieter siblings, with top_links.
BENCHMARK_CAPTURE(BM_Stats, account_days90_by_day, Interval::day, 90 * kDay, 1 + kQuietLinks)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);

// Enriched clicks shaped like real traffic: Zipf-ranked links and dimension values, 3 % bots,
// visitors drawn from a pool (so some repeat within a day), 50,000 clicks/s of event time.
class ClickGen {
 public:
  explicit ClickGen(int links) : rng_(7) {
    for (const DimSpec& dim : kDims) {
      const auto w = zipf_weights(dim.values);
      dims_.emplace_back(w.begin(), w.end());
    }
    const auto w = zipf_weights(links);
    links_ = std::discrete_distribution<int>(w.begin(), w.end());
    for (int i = 0; i < 200'000; ++i) visitors_.push_back(hex(rng_()));
  }

  std::vector<EnrichedClick> batch(std::size_t n, TimeUs& at) {
    std::vector<EnrichedClick> out(n);
    for (EnrichedClick& c : out) {
      at += 20;  // 50,000 clicks per second
      c.id = new_event_id(at);
      c.at = at;
      c.link_id = 1 + links_(rng_);
      c.country = kDims[0].value(dims_[0](rng_));
      c.city = "City " + std::to_string(dims_[1](rng_));
      c.region = "Region";
      c.referrer = kDims[2].value(dims_[2](rng_));
      c.device = kDims[3].value(std::min(dims_[3](rng_), 3));
      c.browser = kDims[4].value(dims_[4](rng_));
      c.browser_version = "120";
      c.os = kDims[5].value(dims_[5](rng_));
      c.bot = rng_() % 100 < 3;
      if (c.bot) {
        c.device = "bot";
        c.bot_reason = "ua-list";
      }
      c.visitor = visitors_[rng_() % visitors_.size()];
      c.destination = "https://www.example.com/landing/page-" + std::to_string(c.link_id);
    }
    return out;
  }

 private:
  static std::string hex(std::uint64_t x) {
    static const char* const kHex = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, x >>= 4) s[static_cast<std::size_t>(i)] = kHex[x & 15];
    return s;
  }

  std::mt19937_64 rng_;
  std::vector<std::discrete_distribution<int>> dims_;
  std::discrete_distribution<int> links_;
  std::vector<std::string> visitors_;
};

void BM_WriteBatch(benchmark::State& state) {
  Db db;
  ClickGen gen(static_cast<int>(state.range(0)));
  TimeUs at = kEnd;
  // Generated up front: the measured loop runs write() only.
  std::vector<std::vector<EnrichedClick>> batches;
  for (benchmark::IterationCount i = 0; i < state.max_iterations; ++i)
    batches.push_back(gen.batch(1000, at));
  std::vector<double> ms;
  std::size_t next = 0;
  for (auto _ : state) {
    std::vector<EnrichedClick>& batch = batches[next++];
    const auto start = std::chrono::steady_clock::now();
    auto written = db.clicks->write(batch);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (!written || written->inserted != 1000) {
      state.SkipWithError(written ? "duplicates in fresh clicks" : written.error().detail.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  report_percentiles(state, ms);
}
// 500 batches: 500,000 clicks, ~10 s of traffic at 50,000/s, so WAL checkpoints are included.
// Links: 100 (a small deployment: a batch touches every link) and 10,000 (~570 links a batch).
BENCHMARK(BM_WriteBatch)
    ->ArgName("links")
    ->Arg(100)
    ->Arg(10'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(500);

}  // namespace
}  // namespace shortener

BENCHMARK_MAIN();
