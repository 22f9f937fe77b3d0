#include "storage/sqlite/migrations.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace shortener::sqlite {
namespace {

// Conventions for every table: STRICT (a wrong type is an error, not a silent conversion),
// timestamps are INTEGER µs since the epoch (TimeUs), text compares with BINARY collation.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE accounts (
  id         INTEGER PRIMARY KEY,
  admin      INTEGER NOT NULL CHECK (admin IN (0, 1)),
  created_at INTEGER NOT NULL
) STRICT;

-- Only the SHA-256 hex of a key is stored. One account may hold several keys.
CREATE TABLE api_keys (
  key_hash   TEXT NOT NULL PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX api_keys_by_account ON api_keys (account_id);

-- AUTOINCREMENT: ids are never reused, so list cursors and (later) click rows that name a
-- link id can never point at a different link. Deleting a link only sets deleted_at: the row
-- keeps its slug, so a deleted slug is never handed out again.
CREATE TABLE links (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  slug        TEXT NOT NULL COLLATE BINARY UNIQUE,  -- case-sensitive: 'abc' <> 'ABC'
  url         TEXT NOT NULL,
  title       TEXT NOT NULL DEFAULT '',
  account_id  INTEGER REFERENCES accounts (id),     -- NULL: anonymous (0 in the domain)
  stats_token TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  deleted_at  INTEGER
) STRICT;
-- Serves list_links: WHERE account_id IS ? AND id < ? ORDER BY id DESC, no sort step.
CREATE INDEX links_by_account ON links (account_id, id DESC);
)sql";

// Click analytics (see README "Schema (migration 2)"). No foreign key from link_id to links:
// links are never hard-deleted, and the check would cost a lookup per stored click.
// WITHOUT ROWID everywhere: each table is clustered on the key every query seeks by, so a row is
// one B-tree entry instead of a rowid row plus a key index.
constexpr std::string_view kAnalyticsSchema = R"sql(
-- One row per stored click; id is the event's ULID, so re-processing an event conflicts and is
-- skipped. ULIDs start with their millisecond: inserts land at the right edge of the key, and
-- retention deletes a prefix of it (no index on `at` to maintain per click).
CREATE TABLE clicks (
  id              TEXT NOT NULL PRIMARY KEY,
  link_id         INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  country         TEXT NOT NULL,
  region          TEXT NOT NULL,
  city            TEXT NOT NULL,
  referrer        TEXT NOT NULL,
  device          TEXT NOT NULL,
  browser         TEXT NOT NULL,
  browser_version TEXT NOT NULL,
  os              TEXT NOT NULL,
  bot             INTEGER NOT NULL CHECK (bot IN (0, 1)),
  bot_reason      TEXT NOT NULL,
  visitor         TEXT NOT NULL,
  utm_source      TEXT NOT NULL,
  destination     TEXT NOT NULL,
  ip_prefix       TEXT NOT NULL,
  first_of_day    INTEGER NOT NULL CHECK (first_of_day IN (0, 1))  -- EnrichedClick::unique
) STRICT, WITHOUT ROWID;
CREATE INDEX clicks_by_link ON clicks (link_id, at);  -- export, oldest first

-- Who was already counted unique: (UTC day, link, visitor hash). Day first, so pruning old days
-- deletes a prefix of the key. Bots never get a row.
CREATE TABLE visitors (
  day     INTEGER NOT NULL,
  link_id INTEGER NOT NULL,
  visitor TEXT NOT NULL,
  PRIMARY KEY (day, link_id, visitor)
) STRICT, WITHOUT ROWID;

-- Rollups, written in the same transaction as the raw rows. `clicks` counts humans only;
-- `bot_clicks` counts bots, so a query includes them by adding the two. `uniques` counts
-- visitors in the bucket of their first click of the UTC day.
CREATE TABLE rollup_hourly (
  link_id    INTEGER NOT NULL,
  hour       INTEGER NOT NULL,  -- start of the UTC hour
  clicks     INTEGER NOT NULL,
  uniques    INTEGER NOT NULL,
  bot_clicks INTEGER NOT NULL,
  PRIMARY KEY (link_id, hour)
) STRICT, WITHOUT ROWID;

-- Kept 48 h (prune) for the live view.
CREATE TABLE rollup_minutely (
  link_id    INTEGER NOT NULL,
  minute     INTEGER NOT NULL,  -- start of the UTC minute
  clicks     INTEGER NOT NULL,
  uniques    INTEGER NOT NULL,
  bot_clicks INTEGER NOT NULL,
  PRIMARY KEY (link_id, minute)
) STRICT, WITHOUT ROWID;
CREATE INDEX rollup_minutely_by_time ON rollup_minutely (minute);  -- prune oldest first

-- Clicks per dimension value (country, city, referrer, device, browser, os; humans and bots
-- apart) of a link over a UTC day, packed into one blob (format: dim_counts.h). The same per
-- 8-day block (aligned to the epoch) lets a long range read a block instead of 8 days.
CREATE TABLE rollup_daily_dims (
  link_id INTEGER NOT NULL,
  day     INTEGER NOT NULL,  -- start of the UTC day
  counts  BLOB NOT NULL,
  PRIMARY KEY (link_id, day)
) STRICT, WITHOUT ROWID;
CREATE TABLE rollup_block_dims (
  link_id INTEGER NOT NULL,
  block   INTEGER NOT NULL,  -- start of the 8-day block
  counts  BLOB NOT NULL,
  PRIMARY KEY (link_id, block)
) STRICT, WITHOUT ROWID;
)sql";

// The click write path, cheaper (bench/ingest):
// - Who was counted unique is read from the raw rows (first_of_day) into the writer's memory
//   (storage/common/first_visits.h), from clicks_by_link alone (it now covers bot, first_of_day and
//   visitor; it grows at the right edge of each link), instead of a `visitors` table whose random
//   inserts dirtied a page per click.
// - Dimension counts are appended, one small row per (link, period) per batch, and folded into
//   one row every kFoldAfter rows (sqlite_click_store.cpp): rewriting a busy link's whole blob on
//   every batch was a third of the writer's time. Existing rows become part 0.
constexpr std::string_view kWritePathV2 = R"sql(
DROP INDEX clicks_by_link;
CREATE INDEX clicks_by_link ON clicks (link_id, at, id, bot, first_of_day, visitor);
DROP TABLE visitors;

CREATE TABLE rollup_daily_dims_parts (
  link_id INTEGER NOT NULL,
  day     INTEGER NOT NULL,  -- start of the UTC day
  part    INTEGER NOT NULL,  -- 0: folded; 1, 2, ...: appended since the last fold
  counts  BLOB NOT NULL,
  PRIMARY KEY (link_id, day, part)
) STRICT, WITHOUT ROWID;
INSERT INTO rollup_daily_dims_parts SELECT link_id, day, 0, counts FROM rollup_daily_dims;
DROP TABLE rollup_daily_dims;
ALTER TABLE rollup_daily_dims_parts RENAME TO rollup_daily_dims;
CREATE TABLE rollup_block_dims_parts (
  link_id INTEGER NOT NULL,
  block   INTEGER NOT NULL,  -- start of the 8-day block
  part    INTEGER NOT NULL,
  counts  BLOB NOT NULL,
  PRIMARY KEY (link_id, block, part)
) STRICT, WITHOUT ROWID;
INSERT INTO rollup_block_dims_parts SELECT link_id, block, 0, counts FROM rollup_block_dims;
DROP TABLE rollup_block_dims;
ALTER TABLE rollup_block_dims_parts RENAME TO rollup_block_dims;
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial schema: accounts, api_keys, links", kInitialSchema},
    Migration{2, "click analytics: clicks, visitors, rollups", kAnalyticsSchema},
    Migration{3, "first visits from raw rows; dimension counts appended and folded", kWritePathV2},
};

constexpr std::string_view kCreateLedger = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;
)sql";

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// One-off statements: migrations run once per start, not worth caching.
Result<std::int64_t> query_int(Connection& db, std::string_view sql,
                               std::optional<std::int64_t> arg = std::nullopt) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(std::move(stmt.error()));
  Query query(*stmt, db.get());
  if (arg) query.bind(1, *arg);
  auto row = query.step();
  if (!row) return std::unexpected(std::move(row.error()));
  return *row ? query.int64(0) : 0;
}

// Runs inside the caller's transaction. Returns whether `m` was applied now.
Result<bool> apply(Connection& db, const Migration& m, int newest_known) {
  auto newest = query_int(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!newest) return std::unexpected(std::move(newest.error()));
  if (*newest > newest_known) {
    return fail(Errc::internal, "database schema version " + std::to_string(*newest) +
                                    " is newer than this binary's (" +
                                    std::to_string(newest_known) + ")");
  }
  auto done = query_int(db, "SELECT count(*) FROM schema_migrations WHERE version = ?",
                        std::int64_t{m.version});
  if (!done) return std::unexpected(std::move(done.error()));
  if (*done > 0) return false;

  const std::string context =
      "migration " + std::to_string(m.version) + " (" + std::string(m.name) + ")";
  if (auto ok = db.exec(m.sql, context); !ok) return std::unexpected(std::move(ok.error()));
  auto record =
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
  if (!record) return std::unexpected(std::move(record.error()));
  Query insert(*record, db.get());
  insert.bind(1, std::int64_t{m.version}).bind(2, m.name).bind(3, now_us());
  if (auto ok = insert.finish(); !ok) return std::unexpected(std::move(ok.error()));
  // user_version mirrors the ledger for tools (`sqlite3 shortener.db 'PRAGMA user_version'`).
  const std::string pragma = "PRAGMA user_version = " + std::to_string(m.version);
  if (auto ok = db.exec(pragma, context); !ok) return std::unexpected(std::move(ok.error()));
  return true;
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

Result<int> migrate(Connection& db, std::span<const Migration> list) {
  const int newest_known = list.empty() ? 0 : list.back().version;
  int applied = 0;
  for (const Migration& m : list) {
    auto tx = Transaction::begin(db);
    if (!tx) return std::unexpected(std::move(tx.error()));
    if (auto ok = db.exec(kCreateLedger, "create schema_migrations"); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
    auto done_now = apply(db, m, newest_known);
    if (!done_now) return std::unexpected(std::move(done_now.error()));
    if (auto ok = tx->commit(); !ok) return std::unexpected(std::move(ok.error()));
    applied += *done_now ? 1 : 0;
  }
  return applied;
}

}  // namespace shortener::sqlite
