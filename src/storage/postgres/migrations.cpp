#include "storage/postgres/migrations.h"

#include <array>
#include <chrono>

#include "storage/postgres/partitions.h"

namespace shortener::pg {
namespace {

// Conventions: timestamps are bigint µs since the epoch (TimeUs); ids are identity columns
// (a sequence: never reused, increasing in creation order); text that is compared or sorted
// as a key uses COLLATE "C" (byte order, like SQLite's BINARY), so 'abc' <> 'ABC' and ties
// sort exactly as the SQLite adapter sorts them.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE accounts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  admin      boolean NOT NULL,
  created_at bigint NOT NULL
);

-- Only the SHA-256 hex of a key is stored. One account may hold several keys.
CREATE TABLE api_keys (
  key_hash   text COLLATE "C" PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id),
  created_at bigint NOT NULL
);
CREATE INDEX api_keys_by_account ON api_keys (account_id);

-- Deleting a link only sets deleted_at: the row keeps its slug, so a slug is never reused.
CREATE TABLE links (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug        text COLLATE "C" NOT NULL UNIQUE,  -- case-sensitive: 'abc' <> 'ABC'
  url         text NOT NULL,
  title       text NOT NULL DEFAULT '',
  account_id  bigint REFERENCES accounts (id),  -- NULL: anonymous (0 in the domain)
  stats_token text NOT NULL,
  created_at  bigint NOT NULL,
  expires_at  bigint,
  deleted_at  bigint
);
-- Serves list_links (account_id = $1 or IS NULL, id < $2, ORDER BY id DESC) with no sort.
CREATE INDEX links_by_account ON links (account_id, id DESC);
)sql";

// Click analytics: the same tables and meaning as the SQLite adapter's. Dimension counts use
// SQLite's blobs too, but appended per batch and compacted, instead of merged in place (a busy
// link's blob would be rewritten by every batch) and without SQLite's 8-day blocks.
// No foreign key from link_id to links: links are never hard-deleted, and the check would cost
// a lookup per stored click.
constexpr std::string_view kAnalyticsSchema = R"sql(
-- Raw clicks, one partition per UTC month (partitions.h); retention drops whole partitions.
-- A partitioned table's primary key must contain the partition key, hence (id, at) rather than
-- id alone. That is still one row per event: `at` is part of the event (fixed when the redirect
-- minted its ULID id), so a replayed event arrives with the same (id, at), conflicts, and is
-- skipped, whichever worker replays it.
CREATE TABLE clicks (
  id              text COLLATE "C" NOT NULL,
  link_id         bigint NOT NULL,
  at              bigint NOT NULL,
  country         text NOT NULL,
  region          text NOT NULL,
  city            text NOT NULL,
  referrer        text NOT NULL,
  device          text NOT NULL,
  browser         text NOT NULL,
  browser_version text NOT NULL,
  os              text NOT NULL,
  bot             boolean NOT NULL,
  bot_reason      text NOT NULL,
  visitor         text NOT NULL,
  utm_source      text NOT NULL,
  destination     text NOT NULL,
  ip_prefix       text NOT NULL,
  first_of_day    boolean NOT NULL,  -- EnrichedClick::unique
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX clicks_by_link ON clicks (link_id, at, id);  -- export, oldest first

-- Who was already counted unique: (UTC day, link, visitor hash). Bots never get a row.
CREATE TABLE visitors (
  day     bigint NOT NULL,
  link_id bigint NOT NULL,
  visitor text COLLATE "C" NOT NULL,
  PRIMARY KEY (day, link_id, visitor)
);

-- Rollups, written in the same transaction as the raw rows. `clicks` counts humans only;
-- `bot_clicks` counts bots; `uniques` counts visitors in the bucket of their first click of the
-- UTC day. fillfactor 80: upserts rewrite rows in place (HOT updates) instead of moving them
-- and touching the index.
CREATE TABLE rollup_hourly (
  link_id    bigint NOT NULL,
  hour       bigint NOT NULL,  -- start of the UTC hour
  clicks     bigint NOT NULL,
  uniques    bigint NOT NULL,
  bot_clicks bigint NOT NULL,
  PRIMARY KEY (link_id, hour)
) WITH (fillfactor = 80);

-- Kept 48 h (prune) for the live view.
CREATE TABLE rollup_minutely (
  link_id    bigint NOT NULL,
  minute     bigint NOT NULL,  -- start of the UTC minute
  clicks     bigint NOT NULL,
  uniques    bigint NOT NULL,
  bot_clicks bigint NOT NULL,
  PRIMARY KEY (link_id, minute)
) WITH (fillfactor = 80);
CREATE INDEX rollup_minutely_by_time ON rollup_minutely (minute);  -- prune oldest first

-- Clicks per dimension value (country, city, referrer, device, browser, os; humans and bots
-- apart) of a link over a UTC day: the sum of the `counts` blobs of its rows (format:
-- dim_counts.h, the SQLite adapter's). Each click batch appends one row per (link, day) it
-- touched; compaction folds a busy link-day's rows into one. No primary key: several rows per
-- link-day are the point.
CREATE TABLE rollup_daily_dims (
  link_id bigint NOT NULL,
  day     bigint NOT NULL,  -- start of the UTC day
  counts  bytea NOT NULL
);
CREATE INDEX rollup_daily_dims_by_link ON rollup_daily_dims (link_id, day);
-- A busy link's blobs pass 2 kB and get compressed: pglz was the server's top function in the
-- write benchmark, lz4 costs a fraction of it. A server built without lz4 keeps pglz.
DO $$ BEGIN
  ALTER TABLE rollup_daily_dims ALTER COLUMN counts SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;
)sql";

// Rollup increments of committed click batches, not yet added to the rollups (the write path
// in postgres_click_store.h). A batch appends one row per link shard it touched (link_id % 16)
// to each table, in its own transaction, instead of upserting one rollup row per touched
// (link, hour) and (link, minute) and appending one per (link, day): with clicks spread over
// many links that was nearly a row per click in three tables, and concurrent workers queued on
// each other's rollup row locks. A fold (one process at a time) takes every pending row, sums
// them and applies the sums in one transaction; reads add what is still pending, so stats are
// exact at every moment.
constexpr std::string_view kPendingRollups = R"sql(
CREATE TABLE pending_counts (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  shard    integer NOT NULL,   -- link_id % 16: a one-link read decodes 1/16 of what is pending
  link_ids bigint[] NOT NULL,  -- parallel arrays: one element per touched (link, minute)
  minutes  bigint[] NOT NULL,  -- start of the UTC minute
  clicks   bigint[] NOT NULL,  -- as in rollup_minutely
  uniques  bigint[] NOT NULL,
  bots     bigint[] NOT NULL
);
CREATE INDEX pending_counts_by_shard ON pending_counts (shard);
CREATE TABLE pending_dims (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  shard    integer NOT NULL,
  link_ids bigint[] NOT NULL,  -- one element per touched (link, UTC day)
  days     bigint[] NOT NULL,
  counts   bytea[] NOT NULL    -- dimension counts blobs, as in rollup_daily_dims
);
CREATE INDEX pending_dims_by_shard ON pending_dims (shard);
-- A shard's arrays pass 2 kB: lz4 rather than pglz, as for rollup_daily_dims.
DO $$ BEGIN
  ALTER TABLE pending_counts ALTER COLUMN link_ids SET COMPRESSION lz4,
    ALTER COLUMN minutes SET COMPRESSION lz4, ALTER COLUMN clicks SET COMPRESSION lz4,
    ALTER COLUMN uniques SET COMPRESSION lz4, ALTER COLUMN bots SET COMPRESSION lz4;
  ALTER TABLE pending_dims ALTER COLUMN link_ids SET COMPRESSION lz4,
    ALTER COLUMN days SET COMPRESSION lz4, ALTER COLUMN counts SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial schema: accounts, api_keys, links", kInitialSchema},
    Migration{2, "click analytics: clicks (monthly partitions), visitors, rollups",
              kAnalyticsSchema},
    Migration{3, "pending rollup increments, folded into the rollups in bulk", kPendingRollups},
};

// Per schema, so test schemas (and tenants sharing a server) migrate independently.
constexpr std::string_view kLockMigrations =
    "SELECT pg_advisory_xact_lock(1936224114, hashtext(current_schema() || '/migrate'))";

constexpr std::string_view kCreateLedger = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at bigint NOT NULL
))sql";

Result<int> current_version(Connection& db) {
  auto row = db.exec("SELECT coalesce(max(version), 0) FROM schema_migrations", "schema version");
  if (!row) return propagate(row);
  return static_cast<int>(row->int64(0, 0));
}

std::unexpected<Error> too_new(int version) {
  return fail(Errc::internal, "database schema version " + std::to_string(version) +
                                  " is newer than this binary's (" +
                                  std::to_string(newest_schema_version()) + ")");
}

Result<int> apply_pending(Connection& db, TimeUs now) {
  auto tx = Transaction::begin(db);
  if (!tx) return propagate(tx);
  if (auto ok = db.exec(kLockMigrations, "lock migrations"); !ok) return propagate(ok);
  if (auto ok = db.exec(kCreateLedger, "create schema_migrations"); !ok) return propagate(ok);
  auto version = current_version(db);
  if (!version) return version;
  if (*version > newest_schema_version()) return too_new(*version);
  for (const Migration& m : kMigrations) {
    if (m.version <= *version) continue;
    const std::string context =
        "migration " + std::to_string(m.version) + " (" + std::string(m.name) + ")";
    if (auto ok = db.exec(m.sql, context); !ok) return propagate(ok);
    Params ledger;
    ledger.add(std::int64_t{m.version}).add(m.name).add(now);
    auto ok = db.query(
        "INSERT INTO schema_migrations (version, name, applied_at) "
        "VALUES ($1, $2, $3)",
        ledger, context);
    if (!ok) return propagate(ok);
  }
  if (auto ok = tx->commit(); !ok) return propagate(ok);
  return newest_schema_version();
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int newest_schema_version() {
  return kMigrations.back().version;
}

Result<int> migrate(Connection& db, TimeUs now) {
  auto version = apply_pending(db, now);
  if (!version) return version;
  Month month = month_of(now);
  for (int i = 0; i <= kMonthsAhead; ++i, month = month_of(month.to))
    if (auto ok = create_click_partition(db, month); !ok) return propagate(ok);
  return version;
}

Result<int> migrate(const std::string& url) {
  auto db = Connection::open(url, ConnectOptions{.application_name = "shortener migrate"});
  if (!db) return propagate(db);
  using namespace std::chrono;
  return migrate(*db, duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

Result<void> check_schema(Connection& db) {
  auto ledger = db.exec("SELECT to_regclass('schema_migrations') IS NOT NULL", "schema version");
  if (!ledger) return propagate(ledger);
  int found = 0;
  if (ledger->boolean(0, 0)) {
    auto version = current_version(db);
    if (!version) return propagate(version);
    found = *version;
  }
  if (found > newest_schema_version()) return too_new(found);
  if (found < newest_schema_version()) {
    Error error{Errc::unavailable, "database schema version " + std::to_string(found) +
                                       " is older than this binary's (" +
                                       std::to_string(newest_schema_version()) +
                                       "): run `shortener migrate`"};
    error.retry_after_s = 5;
    return std::unexpected(std::move(error));
  }
  return {};
}

}  // namespace shortener::pg
