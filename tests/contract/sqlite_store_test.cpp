// What only the SQLite adapter promises: a durable file, idempotent embedded migrations, WAL,
// and clean error values when the file cannot be used.
#include "storage/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "temp_dir.h"

namespace shortener {
namespace {

using contract::TempDir;
using sqlite::Connection;
using sqlite::Query;

constexpr TimeUs kT0 = 1'767'225'600'000'000;

class SqliteStoreTest : public testing::Test {
 protected:
  std::string db_path() const { return (dir_.path() / "shortener.db").string(); }

  std::unique_ptr<SqliteStore> open_store(SqliteOptions options = {}) {
    auto store = SqliteStore::open(db_path(), options);
    EXPECT_TRUE(store) << store.error().detail;
    return store ? std::move(*store) : nullptr;
  }

  // A side connection for looking under the adapter.
  Connection raw() {
    auto conn = Connection::open(db_path(), {});
    EXPECT_TRUE(conn) << conn.error().detail;
    return std::move(*conn);
  }

  // Every row's `column`, one per line.
  static std::string query_text(Connection& conn, std::string_view sql, int column = 0) {
    auto stmt = conn.prepare(sql);
    EXPECT_TRUE(stmt) << stmt.error().detail;
    Query query(*stmt, conn.get());
    std::string out;
    for (auto row = query.step(); row && *row; row = query.step()) {
      out += query.text(column) + "\n";
    }
    return out;
  }

  TempDir dir_;
};

NewLink new_link(const std::string& slug, std::int64_t account_id = 0) {
  return NewLink{.slug = slug,
                 .url = "https://example.com/" + slug,
                 .title = "",
                 .account_id = account_id,
                 .stats_token = "t",
                 .created_at = kT0,
                 .expires_at = std::nullopt};
}

LinkPatch title_patch(std::string title) {
  LinkPatch patch;
  patch.title = std::move(title);
  return patch;
}

TEST_F(SqliteStoreTest, ReopeningTheFileKeepsEverything) {
  std::int64_t account_id = 0;
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    auto account = store->create_account(true, "hash", kT0);
    ASSERT_TRUE(account);
    account_id = account->id;
    ASSERT_TRUE(store->create_link(new_link("kept", account_id)));
    ASSERT_TRUE(store->create_link(new_link("removed")));
    ASSERT_TRUE(store->update_link("kept", title_patch("edited")));
    ASSERT_TRUE(store->delete_link("removed", kT0 + 1));
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->find_account_by_key_hash("hash")->id, account_id);
  EXPECT_TRUE(*store->has_admin());
  EXPECT_EQ(store->find_link("kept")->title, "edited");
  EXPECT_EQ(store->find_link("removed")->deleted_at, kT0 + 1);
  EXPECT_EQ(store->list_links(account_id, 10, std::nullopt)->links.size(), 1u);
}

TEST_F(SqliteStoreTest, MigrationsRunTwiceAreANoOp) {
  ASSERT_TRUE(open_store());
  ASSERT_TRUE(open_store());  // a second start finds nothing to do
  Connection conn = raw();
  auto again = sqlite::migrate(conn);
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(*again, 0);
  const auto newest = std::to_string(sqlite::migrations().back().version);
  EXPECT_EQ(query_text(conn, "SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite::migrations().size()) + "\n");
  EXPECT_EQ(query_text(conn, "PRAGMA user_version"), newest + "\n");
}

TEST_F(SqliteStoreTest, MigrationVersionsIncreaseFromOne) {
  int expected = 1;
  for (const auto& m : sqlite::migrations()) EXPECT_EQ(m.version, expected++) << m.name;
}

TEST_F(SqliteStoreTest, AFailedMigrationLeavesNoTrace) {
  const sqlite::Migration list[] = {
      {1, "good", "CREATE TABLE one (x INTEGER) STRICT;"},
      {2, "half bad", "CREATE TABLE two (x INTEGER) STRICT; CREATE TABLE broken ("},
  };
  Connection conn = raw();
  auto result = sqlite::migrate(conn, list);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::internal);
  EXPECT_NE(result.error().detail.find("half bad"), std::string::npos) << result.error().detail;
  EXPECT_EQ(query_text(conn, "SELECT version FROM schema_migrations"), "1\n");
  EXPECT_EQ(query_text(conn, "SELECT name FROM sqlite_schema WHERE name IN ('one', 'two')"),
            "one\n");
}

TEST_F(SqliteStoreTest, ADatabaseFromANewerBinaryIsRefused) {
  ASSERT_TRUE(open_store());
  {
    Connection conn = raw();
    ASSERT_TRUE(conn.exec("INSERT INTO schema_migrations VALUES (9999, 'future', 0)", "test"));
  }
  auto store = SqliteStore::open(db_path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::internal);
  EXPECT_NE(store.error().detail.find("newer"), std::string::npos) << store.error().detail;
}

TEST_F(SqliteStoreTest, UsesWalAndTheListIndex) {
  ASSERT_TRUE(open_store());
  Connection conn = raw();
  EXPECT_EQ(query_text(conn, "PRAGMA journal_mode"), "wal\n");
  const std::string plan = query_text(
      conn,
      "EXPLAIN QUERY PLAN SELECT id FROM links WHERE account_id IS 1 AND deleted_at IS NULL "
      "AND id < 100 ORDER BY id DESC LIMIT 11",
      3);  // EXPLAIN QUERY PLAN's `detail` column
  EXPECT_NE(plan.find("links_by_account"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;  // no sort step
}

TEST_F(SqliteStoreTest, PathUnderARegularFileIsAnErrorValue) {
  // Root ignores permission bits, so make the path impossible instead of forbidden.
  const auto file = dir_.path() / "plain-file";
  std::ofstream(file) << "x";
  auto store = SqliteStore::open((file / "shortener.db").string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::unavailable);
  EXPECT_NE(store.error().detail.find("plain-file"), std::string::npos) << store.error().detail;
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAnErrorValue) {
  auto store = SqliteStore::open((dir_.path() / "no" / "such" / "dir.db").string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::unavailable);
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsAnErrorValue) {
  std::ofstream(db_path()) << std::string(4096, 'z');
  auto store = SqliteStore::open(db_path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::internal);
}

TEST_F(SqliteStoreTest, OneReaderServesManyThreads) {
  auto store = open_store(SqliteOptions{.readers = 1});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_link(new_link("shared")));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!store->find_link("shared")) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
}

TEST_F(SqliteStoreTest, ALinkForAMissingAccountIsABugNotAConflict) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto result = store->create_link(new_link("orphan", 12345));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::internal);
}

TEST_F(SqliteStoreTest, ALockHeldTooLongIsUnavailable) {
  auto store = open_store(SqliteOptions{.busy_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(store);
  Connection other = raw();  // another process, say `shortener keys create`, holding the lock
  ASSERT_TRUE(other.exec("BEGIN IMMEDIATE", "test"));
  auto result = store->create_link(new_link("blocked"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::unavailable);
  EXPECT_TRUE(store->find_link("blocked").error().code == Errc::not_found);  // reads go on
  ASSERT_TRUE(other.exec("ROLLBACK", "test"));
  EXPECT_TRUE(store->create_link(new_link("blocked")));
}

}  // namespace
}  // namespace shortener
