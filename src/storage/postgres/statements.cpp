#include "storage/postgres/statements.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace shortener::pg::stmt {
namespace {

#define LINK_COLUMNS \
  "id, slug, url, title, account_id, stats_token, created_at, expires_at, deleted_at"

// One statement for every PATCH shape: each field has a "set it?" flag, so no SQL is built at
// run time. Deleted links are not updatable (RETURNING yields no row -> not found).
constexpr std::pair<const char*, std::string_view> kLinkStatements[] = {
    {kInsertLink,
     "INSERT INTO links (slug, url, title, account_id, stats_token, created_at, expires_at) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"},
    {kFindLink, "SELECT " LINK_COLUMNS " FROM links WHERE slug = $1"},
    // Two statements, because `account_id IS NOT DISTINCT FROM $1` cannot use the index.
    {kListLinks,
     "SELECT " LINK_COLUMNS " FROM links WHERE account_id = $1 AND deleted_at IS NULL AND id < $2 "
     "ORDER BY account_id, id DESC LIMIT $3"},
    {kListAnonymousLinks,
     "SELECT " LINK_COLUMNS " FROM links WHERE account_id IS NULL AND deleted_at IS NULL AND "
     "id < $1 ORDER BY account_id, id DESC LIMIT $2"},
    {kUpdateLink,
     "UPDATE links SET "
     "url = CASE WHEN $2::boolean THEN $3::text ELSE url END, "
     "title = CASE WHEN $4::boolean THEN $5::text ELSE title END, "
     "expires_at = CASE WHEN $6::boolean THEN $7::bigint ELSE expires_at END "
     "WHERE slug = $1 AND deleted_at IS NULL RETURNING " LINK_COLUMNS},
    {kDeleteLink, "UPDATE links SET deleted_at = $2 WHERE slug = $1 AND deleted_at IS NULL"},
    // Account and key in one statement: a taken key hash fails the whole of it, so a failed
    // attempt never leaves an account without a key.
    {kInsertAccount,
     "WITH account AS (INSERT INTO accounts (admin, created_at) VALUES ($1, $3) RETURNING id) "
     "INSERT INTO api_keys (key_hash, account_id, created_at) SELECT $2, id, $3 FROM account "
     "RETURNING account_id"},
    {kFindAccount,
     "SELECT a.id, a.admin, a.created_at FROM api_keys AS k "
     "JOIN accounts AS a ON a.id = k.account_id WHERE k.key_hash = $1"},
    {kHasAdmin, "SELECT EXISTS (SELECT 1 FROM accounts WHERE admin)"},
    {kPing, "SELECT max(version) FROM schema_migrations"},
};

#undef LINK_COLUMNS

#define CLICK_COLUMNS                                                                        \
  "id, link_id, at, country, region, city, referrer, device, browser, browser_version, os, " \
  "bot, bot_reason, visitor, utm_source, destination, ip_prefix, first_of_day"
#define COUNTS_UPDATE                                                             \
  "clicks = r.clicks + excluded.clicks, uniques = r.uniques + excluded.uniques, " \
  "bot_clicks = r.bot_clicks + excluded.bot_clicks"
#define LINK_SET "link_id = ANY($1::bigint[])"
#define SHARD_OF(l) "mod(" l ", 16)"  // kPendingShards
// The start of the UTC hour of a time in µs (floor, also for times before 1970).
#define HOUR_OF(t) t " - mod(mod(" t ", 3600000000) + 3600000000, 3600000000)"
// Pending (link, minute) counts of the links in $1, in the shards in $SHARDS.
#define PENDING_ROWS(SHARDS)                                                              \
  "FROM pending_counts AS p, unnest(p.link_ids, p.minutes, p.clicks, p.uniques, p.bots) " \
  "AS x(l, m, c, u, b) WHERE p.shard = ANY(" SHARDS "::integer[]) AND x.l = ANY($1::bigint[])"
#define PENDING_MINUTES(SHARDS) "SELECT x.l, x.m, x.c, x.u, x.b " PENDING_ROWS(SHARDS)
#define PENDING_HOURS(SHARDS) \
  "SELECT x.l, " HOUR_OF("x.m") " AS h, x.c, x.u, x.b " PENDING_ROWS(SHARDS)

// Batch writes take one array per column and unnest them: any batch size is one statement with
// a fixed number of parameters. Rows arrive sorted by key, so concurrent batches lock the rows
// they share in the same order (no deadlocks between workers).
constexpr std::pair<const char*, std::string_view> kClickStatements[] = {
    {kInsertVisitors,
     "INSERT INTO visitors (day, link_id, visitor) "
     "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) "
     "ON CONFLICT DO NOTHING RETURNING day, link_id, visitor"},
    {kInsertClicks,
     "INSERT INTO clicks (" CLICK_COLUMNS
     ") SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], "
     "$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
     "$12::boolean[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], "
     "$18::boolean[]) ON CONFLICT (id, at) DO NOTHING RETURNING id"},
    {kMarkFirstOfDay, "UPDATE clicks SET first_of_day = true WHERE id = $1 AND at = $2"},
    {kDeleteVisitor, "DELETE FROM visitors WHERE day = $1 AND link_id = $2 AND visitor = $3"},
    // A batch's rollup increments, summed in memory per (link, minute) and per (link, UTC day),
    // appended as one row per link shard. Every aggregate of a group sees the group's rows in
    // the same order, so the arrays stay parallel.
    {kAddPendingCounts,
     "INSERT INTO pending_counts (shard, link_ids, minutes, clicks, uniques, bots) "
     "SELECT " SHARD_OF(
         "l") ", array_agg(l), array_agg(m), array_agg(c), array_agg(u), "
              "array_agg(b) FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], "
              "$5::bigint[]) AS x(l, m, c, u, b) GROUP BY 1"},
    {kAddPendingDims,
     "INSERT INTO pending_dims (shard, link_ids, days, counts) "
     "SELECT " SHARD_OF(
         "l") ", array_agg(l), array_agg(d), array_agg(c) "
              "FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS x(l, d, c) GROUP BY 1"},
    // One fold at a time per schema; a worker that does not get the lock leaves it to the other.
    {kLockFold,
     "SELECT pg_try_advisory_xact_lock(1936224114, hashtext(current_schema() || '/fold'))"},
    // Takes the oldest $1 pending count rows, sums them per (link, minute) and adds the sums to
    // both rollups, rows in key order (prune deletes minute rows too); answers how many it took.
    {kFoldCounts,
     "WITH taken AS (DELETE FROM pending_counts WHERE id IN "
     "(SELECT id FROM pending_counts ORDER BY id LIMIT $1) "
     "RETURNING link_ids, minutes, clicks, uniques, bots), "
     "m AS (SELECT x.l, x.m, sum(x.c)::bigint AS c, sum(x.u)::bigint AS u, sum(x.b)::bigint AS b "
     "FROM taken, unnest(taken.link_ids, taken.minutes, taken.clicks, taken.uniques, taken.bots) "
     "AS x(l, m, c, u, b) GROUP BY x.l, x.m), "
     "hourly AS (INSERT INTO rollup_hourly AS r (link_id, hour, clicks, uniques, bot_clicks) "
     "SELECT l, " HOUR_OF(
         "m") ", sum(c), sum(u), sum(b) FROM m GROUP BY 1, 2 ORDER BY 1, 2 "
              "ON CONFLICT (link_id, hour) DO UPDATE SET " COUNTS_UPDATE " RETURNING 1), "
              "minutely AS (INSERT INTO rollup_minutely AS r (link_id, minute, clicks, uniques, "
              "bot_clicks) SELECT l, m, c, u, b FROM m ORDER BY 1, 2 "
              "ON CONFLICT (link_id, minute) DO UPDATE SET " COUNTS_UPDATE " RETURNING 1) "
              "SELECT count(*) FROM taken"},
    // Takes the oldest $1 pending dimension rows; the caller sums their blobs per (link, day)
    // and appends the sums. Each row also says how many pending rows were taken.
    {kTakePendingDims,
     "WITH taken AS (DELETE FROM pending_dims WHERE id IN "
     "(SELECT id FROM pending_dims ORDER BY id LIMIT $1) RETURNING link_ids, days, counts) "
     "SELECT x.l, x.d, x.c, (SELECT count(*) FROM taken) FROM taken, "
     "unnest(taken.link_ids, taken.days, taken.counts) AS x(l, d, c) ORDER BY x.l, x.d"},
    {kAddDailyDims,
     "INSERT INTO rollup_daily_dims (link_id, day, counts) "
     "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])"},
    {kTakeDailyDims,
     "DELETE FROM rollup_daily_dims WHERE link_id = $1 AND day = $2 RETURNING counts"},
    {kPutDailyDims, "INSERT INTO rollup_daily_dims (link_id, day, counts) VALUES ($1, $2, $3)"},
    // Retention, a chunk per statement (autocommit). Clicks: ids are ULIDs, which start with
    // their millisecond, so `id < $3` (the ULID prefix of the cut-off) is a range of the
    // primary key; `at < $1` keeps an id minted later than its click and prunes partitions.
    {kPruneClicks,
     "DELETE FROM clicks WHERE (id, at) IN "
     "(SELECT id, at FROM clicks WHERE id < $3 AND at < $1 LIMIT $2)"},
    {kPruneMinutely,
     "DELETE FROM rollup_minutely WHERE (link_id, minute) IN "
     "(SELECT link_id, minute FROM rollup_minutely WHERE minute < $1 ORDER BY minute LIMIT $2)"},
    {kPruneVisitors,
     "DELETE FROM visitors WHERE (day, link_id, visitor) IN "
     "(SELECT day, link_id, visitor FROM visitors WHERE day < $1 LIMIT $2)"},
    // Reads add what is still pending (same snapshot: a fold moves counts from one side to the
    // other atomically), from the shards of the links asked for. Buckets are
    // `hour / width * width`: the hour itself, or its UTC day (times are >= 0).
    {kSeriesHourly,
     "SELECT t, sum(c)::bigint, sum(u)::bigint, sum(b)::bigint FROM ("
     "SELECT hour / $4::bigint * $4::bigint AS t, clicks AS c, uniques AS u, bot_clicks AS b "
     "FROM rollup_hourly WHERE " LINK_SET " AND hour >= $2 AND hour < $3 "
     "UNION ALL SELECT h / $4::bigint * $4::bigint, c, u, b FROM (" PENDING_HOURS(
         "$5") ") AS q WHERE h >= $2 AND h < $3) AS s GROUP BY t"},
    {kSeriesMinutely,
     "SELECT t, sum(c)::bigint, sum(u)::bigint, sum(b)::bigint FROM ("
     "SELECT minute / $4::bigint * $4::bigint AS t, clicks AS c, uniques AS u, bot_clicks AS b "
     "FROM rollup_minutely WHERE " LINK_SET " AND minute >= $2 AND minute < $3 "
     "UNION ALL SELECT m / $4::bigint * $4::bigint, c, u, b FROM (" PENDING_MINUTES(
         "$5") ") AS q WHERE m >= $2 AND m < $3) AS s GROUP BY t"},
    {kDailyDims,
     "SELECT counts FROM rollup_daily_dims WHERE " LINK_SET " AND day >= $2 AND day < $3 "
     "UNION ALL SELECT x.c FROM pending_dims AS p, unnest(p.link_ids, p.days, p.counts) "
     "AS x(l, d, c) WHERE p.shard = ANY($4::integer[]) AND x.l = ANY($1::bigint[]) "
     "AND x.d >= $2 AND x.d < $3"},
    {kTopLinksHourly,
     "SELECT l, sum(c + $4::bigint * b)::bigint AS n FROM ("
     "SELECT link_id AS l, clicks AS c, bot_clicks AS b FROM rollup_hourly "
     "WHERE " LINK_SET " AND hour >= $2 AND hour < $3 "
     "UNION ALL SELECT l, c, b FROM (" PENDING_HOURS(
         "$6") ") AS q WHERE h >= $2 AND h < $3) AS s "
               "GROUP BY l HAVING sum(c + $4::bigint * b) > 0 ORDER BY n DESC, l LIMIT $5"},
    {kTopLinksMinutely,
     "SELECT l, sum(c + $4::bigint * b)::bigint AS n FROM ("
     "SELECT link_id AS l, clicks AS c, bot_clicks AS b FROM rollup_minutely "
     "WHERE " LINK_SET " AND minute >= $2 AND minute < $3 "
     "UNION ALL SELECT l, c, b FROM (" PENDING_MINUTES(
         "$6") ") AS q WHERE m >= $2 AND m < $3) AS s "
               "GROUP BY l HAVING sum(c + $4::bigint * b) > 0 ORDER BY n DESC, l LIMIT $5"},
    // Keyset pagination on (at, id), the order of clicks_by_link; ('', from) sorts before every
    // click at `from`. Each page is a statement of its own: a slow export holds no snapshot.
    {kExportPage,
     "SELECT " CLICK_COLUMNS " FROM clicks WHERE link_id = $1 AND (at, id) > ($2, $3) AND at < $4 "
     "ORDER BY at, id LIMIT $5"},
};

}  // namespace

const std::string_view kCopyClicks = "COPY clicks (" CLICK_COLUMNS ") FROM STDIN (FORMAT binary)";

namespace {

#undef PENDING_HOURS
#undef PENDING_MINUTES
#undef PENDING_ROWS
#undef HOUR_OF
#undef SHARD_OF
#undef LINK_SET
#undef COUNTS_UPDATE
#undef CLICK_COLUMNS

template <std::size_t N>
Result<void> prepare_all(Connection& db,
                         const std::pair<const char*, std::string_view> (&statements)[N]) {
  for (const auto& [name, sql] : statements)
    if (auto ok = db.prepare(name, sql); !ok) return ok;
  return {};
}

}  // namespace

Result<void> prepare_link_statements(Connection& db) {
  return prepare_all(db, kLinkStatements);
}

Result<void> prepare_click_statements(Connection& db) {
  return prepare_all(db, kClickStatements);
}

}  // namespace shortener::pg::stmt
