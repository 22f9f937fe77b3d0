// Runs the port contracts against PostgresStore and PostgresClickStore, plus the cases only
// PostgreSQL has (migrations, partitions, lost connections), on the server named by
// SHORTENER_TEST_PG_URL (scripts/pg-test.sh starts one). Every test gets a schema of its own,
// selected through the URL's search_path and dropped afterwards. Without the variable these
// tests are skipped, or fail when SHORTENER_REQUIRE_PG=1 (as in CI).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "click_store_factory.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/partitions.h"
#include "storage/postgres/postgres_click_store.h"
#include "storage/postgres/postgres_store.h"
#include "store_factory.h"

namespace shortener::contract {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr TimeUs kDay = 86'400'000'000;

const char* server_url() {
  const char* url = std::getenv("SHORTENER_TEST_PG_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

// Skips the current test, or fails it under SHORTENER_REQUIRE_PG=1.
void no_server() {
  const char* require = std::getenv("SHORTENER_REQUIRE_PG");
  if (require != nullptr && std::string(require) == "1") {
    FAIL() << "SHORTENER_REQUIRE_PG=1 but SHORTENER_TEST_PG_URL is not set";
  }
  GTEST_SKIP() << "SHORTENER_TEST_PG_URL is not set (scripts/pg-test.sh start DIR prints one)";
}

// A schema created for one test and dropped, with everything in it, when the last store
// using it is gone. url() selects it (search_path) and names the test's connections.
class TestSchema {
 public:
  explicit TestSchema(const std::string& server) : admin_(connect(server)) {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
            std::to_string(std::random_device{}() % 100000);
    url_ = server + (server.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_ + "&application_name=" + name_;
    sql("CREATE SCHEMA " + name_);
  }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;
  ~TestSchema() { (void)admin_.exec("DROP SCHEMA " + name_ + " CASCADE", "drop test schema"); }

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }

  pg::PgResult sql(const std::string& text) {
    auto result = admin_.exec(text, text);
    if (!result) throw std::runtime_error(result.error().detail);
    return std::move(*result);
  }

  // Closes every connection of this test's stores, as a server restart would.
  void terminate_connections() {
    sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
        name_ + "'");
  }

 private:
  static pg::Connection connect(const std::string& server) {
    auto conn = pg::Connection::open(server, {});
    if (!conn) throw std::runtime_error(conn.error().detail);
    return std::move(*conn);
  }

  pg::Connection admin_;
  std::string name_;
  std::string url_;
};

// A migrated schema, or null after reporting why not.
std::shared_ptr<TestSchema> migrated_schema() {
  if (server_url() == nullptr) {
    no_server();
    return nullptr;
  }
  auto schema = std::make_shared<TestSchema>(server_url());
  auto version = pg::migrate(schema->url());
  if (!version) {
    ADD_FAILURE() << "migrate: " << version.error().detail;
    return nullptr;
  }
  return schema;
}

// Stands in for the stores when there is no server, so the fixtures' SetUp passes its
// null checks and the skip (or failure) recorded by no_server() decides the test.
class NoServer final : public LinkStore, public AccountStore, public ClickStore, public StatsStore {
 public:
  Result<Link> create_link(const NewLink&) override { return down(); }
  Result<Link> find_link(std::string_view) override { return down(); }
  Result<LinkPage> list_links(std::int64_t, int, std::optional<std::int64_t>) override {
    return down();
  }
  Result<Link> update_link(std::string_view, const LinkPatch&) override { return down(); }
  Result<void> delete_link(std::string_view, TimeUs) override { return down(); }
  Result<void> ping() override { return down(); }
  Result<Account> create_account(bool, std::string_view, TimeUs) override { return down(); }
  Result<Account> find_account_by_key_hash(std::string_view) override { return down(); }
  Result<bool> has_admin() override { return down(); }
  Result<WriteResult> write(std::vector<EnrichedClick>&) override { return down(); }
  Result<void> prune(TimeUs, TimeUs) override { return down(); }
  Result<Stats> stats(const StatsQuery&) override { return down(); }
  Result<void> export_clicks(std::int64_t, TimeUs, TimeUs,
                             const std::function<bool(const EnrichedClick&)>&) override {
    return down();
  }

 private:
  static std::unexpected<Error> down() { return fail(Errc::unavailable, "no test server"); }
};

StoreFactory postgres_factory() {
  return StoreFactory{
      .name = "server",
      .make =
          [] {
            auto schema = migrated_schema();
            if (!schema) {
              auto none = std::make_shared<NoServer>();
              return Stores{.backend = nullptr, .links = none, .accounts = none};
            }
            // Fewer connections than the concurrency tests have threads, so waiting for a
            // free connection gets exercised too.
            auto store = PostgresStore::open(schema->url(), PostgresOptions{.pool_size = 3});
            if (!store) {
              ADD_FAILURE() << "PostgresStore::open: " << store.error().detail;
              return Stores{};
            }
            std::shared_ptr<PostgresStore> shared = std::move(*store);
            return Stores{.backend = schema, .links = shared, .accounts = shared};
          },
  };
}

ClickStoreFactory postgres_click_factory() {
  return ClickStoreFactory{
      .name = "server",
      .make =
          [] {
            auto schema = migrated_schema();
            if (!schema) {
              auto none = std::make_shared<NoServer>();
              return ClickStores{.backend = nullptr, .clicks = none, .stats = none};
            }
            auto store = PostgresClickStore::open(schema->url(), PostgresOptions{.pool_size = 2});
            if (!store) {
              ADD_FAILURE() << "PostgresClickStore::open: " << store.error().detail;
              return ClickStores{};
            }
            std::shared_ptr<PostgresClickStore> shared = std::move(*store);
            return ClickStores{.backend = schema, .clicks = shared, .stats = shared};
          },
  };
}

INSTANTIATE_TEST_SUITE_P(Postgres, LinkStoreContract, testing::Values(postgres_factory()),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(Postgres, AccountStoreContract, testing::Values(postgres_factory()),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(Postgres, ClickStoreContract, testing::Values(postgres_click_factory()),
                         click_factory_name);

// PostgreSQL-only behaviour. Each test starts from an empty schema of its own.
class PostgresStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    if (server_url() == nullptr) return no_server();
    schema_ = std::make_unique<TestSchema>(server_url());
  }

  // The schema migrated and a click store on it, or null after reporting why.
  std::unique_ptr<PostgresClickStore> click_store(const PostgresOptions& options = {}) {
    if (auto version = pg::migrate(schema_->url()); !version) {
      ADD_FAILURE() << "migrate: " << version.error().detail;
      return nullptr;
    }
    auto store = PostgresClickStore::open(schema_->url(), options);
    if (!store) {
      ADD_FAILURE() << "PostgresClickStore::open: " << store.error().detail;
      return nullptr;
    }
    return std::move(*store);
  }

  std::unique_ptr<TestSchema> schema_;
};

TEST_F(PostgresStoreTest, ConcurrentMigrationsApplyEachVersionOnce) {
  std::vector<Result<int>> results(4, fail(Errc::internal, "not run"));
  std::vector<std::thread> threads;
  for (auto& result : results) threads.emplace_back([&] { result = pg::migrate(schema_->url()); });
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result) << result.error().detail;
    EXPECT_EQ(*result, pg::newest_schema_version());
  }
  auto ledger =
      schema_->sql("SELECT count(*), max(version) FROM " + schema_->name() + ".schema_migrations");
  EXPECT_EQ(ledger.int64(0, 0), static_cast<std::int64_t>(pg::migrations().size()));
  EXPECT_EQ(ledger.int64(0, 1), pg::newest_schema_version());
  auto again = pg::migrate(schema_->url());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, pg::newest_schema_version());
}

TEST_F(PostgresStoreTest, UnmigratedOrBadUrlsAreRefusedAsValues) {
  auto unmigrated = PostgresStore::open(schema_->url());
  ASSERT_FALSE(unmigrated);
  EXPECT_EQ(unmigrated.error().code, Errc::unavailable);
  EXPECT_NE(unmigrated.error().detail.find("shortener migrate"), std::string::npos);

  auto not_postgres = PostgresStore::open("mysql://localhost/db");
  ASSERT_FALSE(not_postgres);
  EXPECT_EQ(not_postgres.error().code, Errc::invalid_input);

  auto refused = PostgresStore::open("postgres://nobody@127.0.0.1:1/none");  // nothing listens
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::unavailable);
  EXPECT_EQ(pg::migrate("postgres://nobody@127.0.0.1:1/none").error().code, Errc::unavailable);
}

TEST_F(PostgresStoreTest, LostConnectionsAreReplacedByTheNextCall) {
  ASSERT_TRUE(pg::migrate(schema_->url()));
  auto store = PostgresStore::open(schema_->url(), PostgresOptions{.pool_size = 2});
  ASSERT_TRUE(store) << store.error().detail;
  ASSERT_TRUE((*store)->create_link(NewLink{.slug = "kept",
                                            .url = "https://example.com/",
                                            .title = "",
                                            .account_id = 0,
                                            .stats_token = "t",
                                            .created_at = kT0,
                                            .expires_at = std::nullopt}));
  for (int round = 0; round < 3; ++round) {
    schema_->terminate_connections();
    // A call may notice the loss (unavailable, never another error); the next one reconnects.
    for (int i = 0; i < 2; ++i) {
      auto first = (*store)->find_link("kept");
      if (!first) {
        EXPECT_EQ(first.error().code, Errc::unavailable) << first.error().detail;
      }
    }
    auto found = (*store)->find_link("kept");
    ASSERT_TRUE(found) << found.error().detail;
    EXPECT_EQ(found->url, "https://example.com/");
  }
}

EnrichedClick click_at(TimeUs at, const std::string& id) {
  EnrichedClick c;
  c.id = id;
  c.link_id = 1;
  c.at = at;
  c.visitor = "v";
  return c;
}

std::vector<std::string> partitions(TestSchema& schema) {
  auto rows = schema.sql(
      "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = '" +
      schema.name() + ".clicks'::regclass ORDER BY 1");
  std::vector<std::string> names;
  for (int r = 0; r < rows.rows(); ++r) names.emplace_back(rows.text(r, 0));
  return names;
}

TEST_F(PostgresStoreTest, ClicksLandInMonthlyPartitionsThatPruneDrops) {
  ASSERT_TRUE(pg::migrate(schema_->url()));
  const auto ahead = partitions(*schema_);
  EXPECT_EQ(ahead.size(), static_cast<std::size_t>(pg::kMonthsAhead + 1));  // this month on

  auto store = PostgresClickStore::open(schema_->url());
  ASSERT_TRUE(store) << store.error().detail;
  // Months without a partition yet are created on demand: Jan, Feb and Mar 2026.
  std::vector<EnrichedClick> batch = {click_at(kT0 + kDay, "01KDW0000000000000000000A1"),
                                      click_at(kT0 + 40 * kDay, "01KDW0000000000000000000A2"),
                                      click_at(kT0 + 70 * kDay, "01KDW0000000000000000000A3")};
  auto written = (*store)->write(batch);
  ASSERT_TRUE(written) << written.error().detail;
  EXPECT_EQ(written->inserted, 3u);
  EXPECT_EQ(pg::partition_name(pg::month_of(kT0 + kDay)), "clicks_p2026_01");
  auto names = partitions(*schema_);
  for (const char* month : {"clicks_p2026_01", "clicks_p2026_02", "clicks_p2026_03"})
    EXPECT_NE(std::find(names.begin(), names.end(), month), names.end()) << month;

  // Cut-off inside March: January and February go whole, March keeps its later rows.
  const TimeUs cut = kT0 + 65 * kDay;
  ASSERT_TRUE((*store)->prune(cut, cut));
  names = partitions(*schema_);
  EXPECT_EQ(std::find(names.begin(), names.end(), "clicks_p2026_01"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "clicks_p2026_02"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "clicks_p2026_03"), names.end());
  int rows = 0;
  ASSERT_TRUE((*store)->export_clicks(1, 0, kT0 + 365 * kDay, [&](const EnrichedClick& c) {
    EXPECT_EQ(c.at, kT0 + 70 * kDay);
    return ++rows > 0;
  }));
  EXPECT_EQ(rows, 1);

  // A late click for a dropped month brings its partition back; replaying it stores nothing.
  std::vector<EnrichedClick> late = {click_at(kT0 + kDay, "01KDW0000000000000000000A4")};
  ASSERT_TRUE((*store)->write(late));
  std::vector<EnrichedClick> replay = {click_at(kT0 + kDay, "01KDW0000000000000000000A4")};
  EXPECT_EQ((*store)->counters().copy_conflicts, 0u);
  auto again = (*store)->write(replay);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->duplicates, 1u);
  EXPECT_EQ((*store)->counters().copy_conflicts, 1u);  // the COPY met it; the INSERT skipped it
}

TEST_F(PostgresStoreTest, ABusyLinkDaysDimensionRowsAreFoldedWithoutChangingStats) {
  auto store = click_store();
  ASSERT_TRUE(store);
  constexpr int kBatches = 40;  // each fold appends one dimension row for link 1, day kT0
  for (int i = 0; i < kBatches; ++i) {
    EnrichedClick click =
        click_at(kT0 + i * 1000, "01KDW00000000000000000B" + std::to_string(100 + i));
    click.country = i % 2 == 0 ? "FR" : "DE";
    std::vector<EnrichedClick> batch = {click};
    ASSERT_TRUE(store->write(batch));
    auto folded = store->fold_pending();
    ASSERT_TRUE(folded) << folded.error().detail;
    EXPECT_TRUE(*folded);
  }
  auto rows = schema_->sql("SELECT count(*) FROM " + schema_->name() +
                           ".rollup_daily_dims WHERE link_id = 1");
  EXPECT_LT(rows.int64(0, 0), kBatches / 2);  // compacted every kCompactAfter rows
  // Once the day is settled, prune folds what is left into one row.
  ASSERT_TRUE(store->prune(0, kT0 + 3 * kDay));
  rows = schema_->sql("SELECT count(*) FROM " + schema_->name() +
                      ".rollup_daily_dims WHERE link_id = 1");
  EXPECT_EQ(rows.int64(0, 0), 1);
  StatsQuery q;
  q.link_ids = {1};
  q.from = kT0;
  q.to = kT0 + kDay;
  auto stats = store->stats(q);
  ASSERT_TRUE(stats) << stats.error().detail;
  ASSERT_EQ(stats->countries.size(), 2u);
  EXPECT_EQ(stats->countries[0].key, "DE");  // ties by value
  EXPECT_EQ(stats->countries[0].clicks, kBatches / 2);
  EXPECT_EQ(stats->countries[1].clicks, kBatches / 2);
  EXPECT_EQ(stats->total, kBatches);
}

// Everything stats() answers, in comparable form.
struct StatsView {
  std::int64_t total, unique, bots;
  std::vector<std::tuple<TimeUs, std::int64_t, std::int64_t>> series;
  std::vector<std::vector<std::pair<std::string, std::int64_t>>> dims;
  std::vector<std::pair<std::int64_t, std::int64_t>> top_links;
  bool operator==(const StatsView&) const = default;
};

void expect_same(const StatsView& a, const StatsView& b, const std::string& what) {
  EXPECT_EQ(a.total, b.total) << what;
  EXPECT_EQ(a.unique, b.unique) << what;
  EXPECT_EQ(a.bots, b.bots) << what;
  EXPECT_EQ(a.series, b.series) << what;
  EXPECT_EQ(a.dims, b.dims) << what;
  EXPECT_EQ(a.top_links, b.top_links) << what;
}

StatsView view(const Stats& s) {
  StatsView v{s.total, s.unique, s.bots, {}, {}, s.top_links};
  for (const Bucket& b : s.timeseries) v.series.emplace_back(b.t, b.clicks, b.unique);
  std::sort(v.series.begin(), v.series.end());  // sparse buckets, in no particular order
  for (const auto* dim : {&s.countries, &s.cities, &s.referrers, &s.devices, &s.browsers, &s.os}) {
    auto& out = v.dims.emplace_back();
    for (const Count& c : *dim) out.emplace_back(c.key, c.clicks);
  }
  return v;
}

std::int64_t pending_rows(TestSchema& schema) {
  return schema
      .sql("SELECT (SELECT count(*) FROM " + schema.name() +
           ".pending_counts) + (SELECT count(*) "
           "FROM " +
           schema.name() + ".pending_dims)")
      .int64(0, 0);
}

TEST_F(PostgresStoreTest, StatsAreTheSameWhetherIncrementsArePendingOrFolded) {
  auto store = click_store();
  ASSERT_TRUE(store);
  // 40 links over 3 shards' worth of ids, three days, minutes and hours apart, humans and bots,
  // a few visitors; written in 6 batches, the first of which may fold (write() folds every
  // 2 s): the rest stays pending.
  std::vector<EnrichedClick> clicks;
  const char* countries[] = {"FR", "DE", "US"};
  for (int i = 0; i < 600; ++i) {
    EnrichedClick c =
        click_at(kT0 + (i % 3) * kDay + (i % 7) * 3600'000'000 + i * TimeUs{61'000'000},
                 "01KDW0000000000000000" + std::to_string(10000 + i));
    c.link_id = 1 + i % 40;
    c.visitor = "v" + std::to_string(i % 11);
    c.country = countries[i % 3];
    c.browser = i % 5 == 0 ? "Firefox" : "Chrome";
    c.bot = i % 9 == 0;
    clicks.push_back(c);
  }
  for (std::size_t b = 0; b < clicks.size(); b += 100) {
    std::vector<EnrichedClick> batch(clicks.begin() + static_cast<std::ptrdiff_t>(b),
                                     clicks.begin() + static_cast<std::ptrdiff_t>(b + 100));
    auto written = store->write(batch);
    ASSERT_TRUE(written) << written.error().detail;
    EXPECT_EQ(written->inserted, 100u);
  }
  ASSERT_GT(pending_rows(*schema_), 0);

  std::vector<StatsQuery> queries;
  for (Interval interval : {Interval::minute, Interval::hour, Interval::day}) {
    for (bool bots : {false, true}) {
      StatsQuery one;  // one link, a range that cuts days and hours
      one.link_ids = {7};
      one.from = kT0 + 2 * 3600'000'000;
      one.to = kT0 + 2 * kDay + 5 * 3600'000'000 + 1;
      one.interval = interval;
      one.include_bots = bots;
      queries.push_back(one);
      StatsQuery many = one;  // account-wide: every link, and one that has no click
      many.link_ids.clear();
      for (std::int64_t link = 1; link <= 41; ++link) many.link_ids.push_back(link);
      many.from = kT0;
      many.to = kT0 + 3 * kDay;
      many.top = 5;
      queries.push_back(many);
    }
  }
  std::vector<StatsView> before;
  for (const StatsQuery& q : queries) {
    auto stats = store->stats(q);
    ASSERT_TRUE(stats) << stats.error().detail;
    before.push_back(view(*stats));
  }
  EXPECT_EQ(before[1].total, 600 - 67);  // account-wide, by minute, humans only (67 bots)
  EXPECT_EQ(before[3].total, 600);

  auto folded = store->fold_pending();
  ASSERT_TRUE(folded) << folded.error().detail;
  EXPECT_TRUE(*folded);
  EXPECT_EQ(pending_rows(*schema_), 0);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    auto stats = store->stats(queries[i]);
    ASSERT_TRUE(stats) << stats.error().detail;
    expect_same(view(*stats), before[i], "query " + std::to_string(i));
  }
  // Nothing pending: a fold has nothing to do and changes nothing.
  ASSERT_TRUE(store->fold_pending());
  auto again = store->stats(queries[3]);
  ASSERT_TRUE(again);
  expect_same(view(*again), before[3], "after an empty fold");
}

TEST_F(PostgresStoreTest, APendingBacklogIsFoldedInBoundedStepsWithoutChangingStats) {
  auto store = click_store();
  ASSERT_TRUE(store);
  // 9,000 pending rows, as if folds had failed for a while: one click of link 1 each.
  schema_->sql("INSERT INTO " + schema_->name() +
               ".pending_counts (shard, link_ids, minutes, clicks, uniques, bots) "
               "SELECT 1, ARRAY[1::bigint], ARRAY[" +
               std::to_string(kT0) +
               " + (g % 60) * 60000000::bigint], ARRAY[1::bigint], ARRAY[0::bigint], "
               "ARRAY[0::bigint] FROM generate_series(1, 9000) AS g");
  StatsQuery q;
  q.link_ids = {1};
  q.from = kT0;
  q.to = kT0 + kDay;
  auto pending = store->stats(q);
  ASSERT_TRUE(pending) << pending.error().detail;
  EXPECT_EQ(pending->total, 9000);

  auto folded = store->fold_pending();
  ASSERT_TRUE(folded) << folded.error().detail;
  EXPECT_TRUE(*folded);
  EXPECT_EQ(store->counters().folds, 3u);  // 4,000 + 4,000 + 1,000 rows
  EXPECT_EQ(pending_rows(*schema_), 0);
  auto after = store->stats(q);
  ASSERT_TRUE(after) << after.error().detail;
  EXPECT_EQ(after->total, 9000);
  EXPECT_EQ(
      schema_->sql("SELECT sum(clicks) FROM " + schema_->name() + ".rollup_minutely").int64(0, 0),
      9000);
}

TEST_F(PostgresStoreTest, ProcessesWritingAndFoldingAtOnceCountEveryClickOnce) {
  // Two stores stand for two worker processes; each has two writer threads and a folder.
  std::vector<std::unique_ptr<PostgresClickStore>> stores;
  for (int i = 0; i < 2; ++i) {
    stores.push_back(click_store(PostgresOptions{.pool_size = 3}));
    ASSERT_TRUE(stores.back());
  }
  constexpr int kWriters = 4, kBatches = 15, kBatchSize = 50;
  std::atomic<int> failures{0}, writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      PostgresClickStore& store = *stores[static_cast<std::size_t>(w % 2)];
      for (int b = 0; b < kBatches; ++b) {
        std::vector<EnrichedClick> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          const int n = (w * kBatches + b) * kBatchSize + i;
          EnrichedClick c = click_at(kT0 + (n % 90) * TimeUs{60'000'000},
                                     "01KDW000000000000000" + std::to_string(100000 + n));
          c.link_id = 1 + n % 23;
          c.visitor = "v" + std::to_string(n);
          batch.push_back(c);
        }
        // A write that loses a deadlock or a lock wait is retried, as the worker does.
        for (int attempt = 0;; ++attempt) {
          std::vector<EnrichedClick> copy = batch;
          if (store.write(copy)) break;
          if (attempt == 5) {
            failures++;
            break;
          }
        }
      }
      writers_done++;
    });
  }
  for (int f = 0; f < 2; ++f) {
    threads.emplace_back([&, f] {
      while (writers_done.load() < kWriters) {
        if (!stores[static_cast<std::size_t>(f)]->fold_pending()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<std::int64_t> links;
  for (std::int64_t link = 1; link <= 23; ++link) links.push_back(link);
  StatsQuery q;
  q.link_ids = links;
  q.from = kT0;
  q.to = kT0 + kDay;
  q.top = 30;
  constexpr std::int64_t kTotal = kWriters * kBatches * kBatchSize;
  auto stats = stores[0]->stats(q);
  ASSERT_TRUE(stats) << stats.error().detail;
  EXPECT_EQ(stats->total, kTotal);
  EXPECT_EQ(stats->unique, kTotal);  // every click its own visitor
  ASSERT_TRUE(stores[1]->fold_pending());
  EXPECT_EQ(pending_rows(*schema_), 0);
  auto folded = stores[1]->stats(q);
  ASSERT_TRUE(folded) << folded.error().detail;
  expect_same(view(*folded), view(*stats), "folded");
  std::int64_t by_country = 0;
  for (const Count& c : folded->countries) by_country += c.clicks;
  EXPECT_EQ(by_country, kTotal);
}

TEST_F(PostgresStoreTest, TextThatIsNotUtf8IsStoredWithReplacementCharacters) {
  auto store = click_store();
  ASSERT_TRUE(store);
  // Through the COPY, and through the INSERT that a replay in the same batch forces.
  EnrichedClick copied = click_at(kT0 + 1000, "01KDW0000000000000000000D1");
  copied.referrer = std::string("a\0b\xff\xc3(", 6);
  copied.city = "S\xc3\xa3o Paulo";  // valid: kept as it is
  std::vector<EnrichedClick> batch = {copied};
  ASSERT_TRUE(store->write(batch));
  EnrichedClick inserted = click_at(kT0 + 2000, "01KDW0000000000000000000D2");
  inserted.referrer = "\x80x";
  batch = {copied, inserted};
  auto mixed = store->write(batch);
  ASSERT_TRUE(mixed) << mixed.error().detail;
  EXPECT_EQ(mixed->inserted, 1u);
  EXPECT_EQ(mixed->duplicates, 1u);
  std::vector<std::string> referrers, cities;
  ASSERT_TRUE(store->export_clicks(1, kT0, kT0 + kDay, [&](const EnrichedClick& c) {
    referrers.push_back(c.referrer);
    cities.push_back(c.city);
    return true;
  }));
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(referrers,
            (std::vector<std::string>{"a" + fffd + "b" + fffd + fffd + "(", fffd + "x"}));
  EXPECT_EQ(cities[0], "S\xc3\xa3o Paulo");
}

TEST_F(PostgresStoreTest, AReplayWhoseVisitorRowWasPrunedLeavesNoTrace) {
  auto store = click_store();
  ASSERT_TRUE(store);
  const EnrichedClick first = click_at(kT0 + 1000, "01KDW0000000000000000000C1");
  const EnrichedClick later = click_at(kT0 + 2000, "01KDW0000000000000000000C2");
  std::vector<EnrichedClick> batch = {first};
  ASSERT_TRUE(store->write(batch));
  ASSERT_TRUE(store->prune(0, kT0 + 3 * kDay));  // visitor rows of day kT0 go, raw rows stay
  const auto visitors = [&] {
    return schema_->sql("SELECT count(*) FROM " + schema_->name() + ".visitors").int64(0, 0);
  };
  ASSERT_EQ(visitors(), 0);

  // This process remembers the committed claim: a later click of that visitor and day is not
  // unique, whether or not the visitor row is still there.
  const EnrichedClick again = click_at(kT0 + 3000, "01KDW0000000000000000000C3");
  batch = {again};
  ASSERT_TRUE(store->write(batch));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_FALSE(batch[0].unique);
  EXPECT_EQ(visitors(), 0);

  // Another process has not seen it: it asks the server, whose row is gone.
  auto other = click_store();
  ASSERT_TRUE(other);
  batch = {first};  // the replay claims the visitor row, then gives it back
  auto replay = other->write(batch);
  ASSERT_TRUE(replay) << replay.error().detail;
  EXPECT_EQ(replay->duplicates, 1u);
  EXPECT_EQ(visitors(), 0);

  batch = {later, first};  // the claim passes to the next stored click, as in SQLite
  auto mixed = other->write(batch);
  ASSERT_TRUE(mixed) << mixed.error().detail;
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_TRUE(batch[0].unique);
  EXPECT_EQ(visitors(), 1);
  bool stored_unique = false;
  ASSERT_TRUE(store->export_clicks(1, kT0, kT0 + kDay, [&](const EnrichedClick& c) {
    if (c.id == later.id) stored_unique = c.unique;
    return true;
  }));
  EXPECT_TRUE(stored_unique);
}

}  // namespace
}  // namespace shortener::contract
