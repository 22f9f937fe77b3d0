#include "storage/sqlite/statements.h"

#include <string>
#include <string_view>

namespace shortener::sqlite {
namespace {

#define LINK_COLUMNS \
  "id, slug, url, title, account_id, stats_token, created_at, expires_at, deleted_at"

constexpr std::string_view kInsertLink =
    "INSERT INTO links (slug, url, title, account_id, stats_token, created_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";

// One statement for every PATCH shape: each field has a "set it?" flag, so no SQL is built at
// run time. Deleted links are not updatable (RETURNING yields no row -> not found).
constexpr std::string_view kUpdateLink =
    "UPDATE links SET "
    "url = CASE WHEN ?2 THEN ?3 ELSE url END, "
    "title = CASE WHEN ?4 THEN ?5 ELSE title END, "
    "expires_at = CASE WHEN ?6 THEN ?7 ELSE expires_at END "
    "WHERE slug = ?1 AND deleted_at IS NULL RETURNING " LINK_COLUMNS;

constexpr std::string_view kDeleteLink =
    "UPDATE links SET deleted_at = ?2 WHERE slug = ?1 AND deleted_at IS NULL";

constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts (admin, created_at) VALUES (?1, ?2) RETURNING id";

constexpr std::string_view kInsertKey =
    "INSERT INTO api_keys (key_hash, account_id, created_at) VALUES (?1, ?2, ?3)";

constexpr std::string_view kFindLink = "SELECT " LINK_COLUMNS " FROM links WHERE slug = ?1";

// `IS` rather than `=` so that account NULL (anonymous) matches too; both use the
// links_by_account index, which also yields the rows already in id DESC order.
constexpr std::string_view kListLinks =
    "SELECT " LINK_COLUMNS
    " FROM links WHERE account_id IS ?1 AND deleted_at IS NULL AND id < ?2 "
    "ORDER BY id DESC LIMIT ?3";

constexpr std::string_view kFindAccount =
    "SELECT a.id, a.admin, a.created_at FROM api_keys AS k "
    "JOIN accounts AS a ON a.id = k.account_id WHERE k.key_hash = ?1";

constexpr std::string_view kHasAdmin = "SELECT EXISTS (SELECT 1 FROM accounts WHERE admin = 1)";

// Reads the database file (a bare `SELECT 1` would not), so a vanished or unreadable file
// shows up as not ready.
constexpr std::string_view kPing = "SELECT max(version) FROM schema_migrations";

#undef LINK_COLUMNS

#define CLICK_COLUMNS                                                                        \
  "id, link_id, at, country, region, city, referrer, device, browser, browser_version, os, " \
  "bot, bot_reason, visitor, utm_source, destination, ip_prefix, first_of_day"
#define LINK_SET "(SELECT j.value FROM json_each(?1) AS j)"

constexpr std::string_view kInsertClick =
    "INSERT INTO clicks (" CLICK_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
    "ON CONFLICT (id) DO NOTHING";

// Served by clicks_by_link alone (it covers every column named here).
constexpr std::string_view kFirstVisits =
    "SELECT visitor FROM clicks WHERE link_id = ?1 AND at >= ?2 AND at < ?3 "
    "AND first_of_day = 1 AND bot = 0";

// Rollups take increments computed per batch in memory: one upsert per touched row.
constexpr std::string_view kAddHourly =
    "INSERT INTO rollup_hourly (link_id, hour, clicks, uniques, bot_clicks) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (link_id, hour) DO UPDATE SET "
    "clicks = clicks + excluded.clicks, uniques = uniques + excluded.uniques, "
    "bot_clicks = bot_clicks + excluded.bot_clicks";
constexpr std::string_view kAddMinutely =
    "INSERT INTO rollup_minutely (link_id, minute, clicks, uniques, bot_clicks) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (link_id, minute) DO UPDATE SET "
    "clicks = clicks + excluded.clicks, uniques = uniques + excluded.uniques, "
    "bot_clicks = bot_clicks + excluded.bot_clicks";
// Dimension counts are blobs of (dim, value, clicks, bot clicks) (dim_counts.h). A batch appends
// its increments as the next part of each touched (link, period); RETURNING the part number tells
// the writer when to fold the parts into part 0 (take them all, insert their sum).
#define APPEND_PART(table, period)                                           \
  "INSERT INTO " table " (link_id, " period                                  \
  ", part, counts) VALUES (?1, ?2, "                                         \
  "coalesce((SELECT max(part) FROM " table " WHERE link_id = ?1 AND " period \
  " = ?2), 0) + 1, "                                                         \
  "?3) RETURNING part"
#define TAKE_PARTS(table, period) \
  "DELETE FROM " table " WHERE link_id = ?1 AND " period " = ?2 RETURNING part, counts"
#define PUT_FOLDED(table, period) \
  "INSERT INTO " table " (link_id, " period ", part, counts) VALUES (?1, ?2, 0, ?3)"
// Periods still in parts, for prune() to fold once late clicks can no longer reach them.
#define UNFOLDED(table, period)                                          \
  "SELECT link_id, " period " FROM " table " WHERE part > 0 AND " period \
  " < ?1 "                                                               \
  "GROUP BY link_id, " period " LIMIT ?2"
constexpr std::string_view kAppendDailyDims = APPEND_PART("rollup_daily_dims", "day");
constexpr std::string_view kAppendBlockDims = APPEND_PART("rollup_block_dims", "block");
constexpr std::string_view kTakeDailyDims = TAKE_PARTS("rollup_daily_dims", "day");
constexpr std::string_view kTakeBlockDims = TAKE_PARTS("rollup_block_dims", "block");
constexpr std::string_view kPutDailyDims = PUT_FOLDED("rollup_daily_dims", "day");
constexpr std::string_view kPutBlockDims = PUT_FOLDED("rollup_block_dims", "block");
constexpr std::string_view kUnfoldedDays = UNFOLDED("rollup_daily_dims", "day");
constexpr std::string_view kUnfoldedBlocks = UNFOLDED("rollup_block_dims", "block");
#undef APPEND_PART
#undef TAKE_PARTS
#undef PUT_FOLDED
#undef UNFOLDED

// Retention deletes the oldest rows a chunk at a time (each its own short transaction), walking
// a key or index that starts with time, so each chunk reads only what it deletes.
// Clicks: ids are ULIDs, which start with their millisecond, so `id < ?3` (the ULID prefix of
// the cut-off) is a range of the primary key; `at < ?1` guards against an id minted later
// than its click's time.
constexpr std::string_view kPruneClicks =
    "DELETE FROM clicks WHERE id IN "
    "(SELECT id FROM clicks WHERE id < ?3 AND at < ?1 LIMIT ?2)";
constexpr std::string_view kPruneMinutely =
    "DELETE FROM rollup_minutely WHERE (link_id, minute) IN "
    "(SELECT link_id, minute FROM rollup_minutely WHERE minute < ?1 ORDER BY minute LIMIT ?2)";

// Rows as stored: the caller groups them into buckets and per-link totals in one pass (for an
// account's links that beats two SQL GROUP BYs, each sorting every row).
constexpr std::string_view kSeriesHourly =
    "SELECT link_id, hour, clicks, uniques, bot_clicks FROM rollup_hourly "
    "WHERE link_id IN " LINK_SET " AND hour >= ?2 AND hour < ?3";
constexpr std::string_view kSeriesMinutely =
    "SELECT link_id, minute, clicks, uniques, bot_clicks FROM rollup_minutely "
    "WHERE link_id IN " LINK_SET " AND minute >= ?2 AND minute < ?3";

constexpr std::string_view kDailyDims =
    "SELECT counts FROM rollup_daily_dims WHERE link_id IN " LINK_SET " AND day >= ?2 AND day < ?3";
constexpr std::string_view kDailyIncrements =
    "SELECT counts FROM rollup_daily_dims "
    "WHERE link_id IN " LINK_SET " AND day >= ?2 AND day < ?3 AND part > 0";
constexpr std::string_view kBlockDims =
    "SELECT counts FROM rollup_block_dims "
    "WHERE link_id IN " LINK_SET " AND block >= ?2 AND block < ?3";

// Keyset pagination on (at, id), the order of clicks_by_link (whose entries end with the id):
// each page is a short statement of its own, so a slow export holds no snapshot between pages.
constexpr std::string_view kExportPage =
    "SELECT " CLICK_COLUMNS
    " FROM clicks WHERE link_id = ?1 AND at >= ?2 AND at < ?4 AND (at > ?2 OR id > ?3) "
    "ORDER BY at, id LIMIT ?5";

#undef LINK_SET
#undef CLICK_COLUMNS

struct Spec {
  Statement* target;
  std::string_view sql;
};

Result<void> prepare_all(Connection& db, std::initializer_list<Spec> specs) {
  for (const Spec& spec : specs) {
    auto stmt = db.prepare(spec.sql);
    if (!stmt) {
      stmt.error().detail += " [" + std::string(spec.sql) + "]";
      return std::unexpected(std::move(stmt.error()));
    }
    *spec.target = std::move(*stmt);
  }
  return {};
}

}  // namespace

Result<WriterStatements> prepare_writer(Connection& db) {
  WriterStatements s;
  auto ok = prepare_all(db, {{&s.insert_link, kInsertLink},
                             {&s.update_link, kUpdateLink},
                             {&s.delete_link, kDeleteLink},
                             {&s.insert_account, kInsertAccount},
                             {&s.insert_key, kInsertKey}});
  if (!ok) return std::unexpected(std::move(ok.error()));
  return s;
}

Result<ReaderStatements> prepare_reader(Connection& db) {
  ReaderStatements s;
  auto ok = prepare_all(db, {{&s.find_link, kFindLink},
                             {&s.list_links, kListLinks},
                             {&s.find_account, kFindAccount},
                             {&s.has_admin, kHasAdmin},
                             {&s.ping, kPing}});
  if (!ok) return std::unexpected(std::move(ok.error()));
  return s;
}

Result<ClickWriterStatements> prepare_click_writer(Connection& db) {
  ClickWriterStatements s;
  auto ok = prepare_all(db, {{&s.insert_click, kInsertClick},
                             {&s.first_visits, kFirstVisits},
                             {&s.add_hourly, kAddHourly},
                             {&s.add_minutely, kAddMinutely},
                             {&s.daily_dims.append, kAppendDailyDims},
                             {&s.daily_dims.take, kTakeDailyDims},
                             {&s.daily_dims.put, kPutDailyDims},
                             {&s.daily_dims.unfolded, kUnfoldedDays},
                             {&s.block_dims.append, kAppendBlockDims},
                             {&s.block_dims.take, kTakeBlockDims},
                             {&s.block_dims.put, kPutBlockDims},
                             {&s.block_dims.unfolded, kUnfoldedBlocks},
                             {&s.prune_clicks, kPruneClicks},
                             {&s.prune_minutely, kPruneMinutely}});
  if (!ok) return std::unexpected(std::move(ok.error()));
  return s;
}

Result<ClickReaderStatements> prepare_click_reader(Connection& db) {
  ClickReaderStatements s;
  auto ok = prepare_all(db, {{&s.series_hourly, kSeriesHourly},
                             {&s.series_minutely, kSeriesMinutely},
                             {&s.daily_dims, kDailyDims},
                             {&s.daily_increments, kDailyIncrements},
                             {&s.block_dims, kBlockDims},
                             {&s.export_page, kExportPage}});
  if (!ok) return std::unexpected(std::move(ok.error()));
  return s;
}

Link read_link(const Query& row) {
  Link link;
  link.id = row.int64(0);
  link.slug = row.text(1);
  link.url = row.text(2);
  link.title = row.text(3);
  link.account_id = row.optional_int64(4).value_or(0);
  link.stats_token = row.text(5);
  link.created_at = row.int64(6);
  link.expires_at = row.optional_int64(7);
  link.deleted_at = row.optional_int64(8);
  return link;
}

EnrichedClick read_click(const Query& row) {
  EnrichedClick click;
  click.id = row.text(0);
  click.link_id = row.int64(1);
  click.at = row.int64(2);
  click.country = row.text(3);
  click.region = row.text(4);
  click.city = row.text(5);
  click.referrer = row.text(6);
  click.device = row.text(7);
  click.browser = row.text(8);
  click.browser_version = row.text(9);
  click.os = row.text(10);
  click.bot = row.int64(11) != 0;
  click.bot_reason = row.text(12);
  click.visitor = row.text(13);
  click.utm_source = row.text(14);
  click.destination = row.text(15);
  click.ip_prefix = row.text(16);
  click.unique = row.int64(17) != 0;
  return click;
}

}  // namespace shortener::sqlite
