// The SQL of SqliteStore, as the two sets of statements each kind of connection prepares once:
// the writer's and every reader's. Link rows always come in the column order read_link expects.
#pragma once

#include <cstdint>
#include <optional>

#include "core/click.h"
#include "core/error.h"
#include "core/link.h"
#include "storage/sqlite/connection.h"

namespace shortener::sqlite {

struct WriterStatements {
  Statement insert_link;     // ?1 slug ?2 url ?3 title ?4 account ?5 token ?6 created ?7 expires
  Statement update_link;     // ?1 slug, then (set?, value) pairs for url, title, expires_at
  Statement delete_link;     // ?1 slug ?2 deleted_at
  Statement insert_account;  // ?1 admin ?2 created_at -> id
  Statement insert_key;      // ?1 key_hash ?2 account_id ?3 created_at
};

struct ReaderStatements {
  Statement find_link;     // ?1 slug
  Statement list_links;    // ?1 account ?2 exclusive upper id ?3 limit
  Statement find_account;  // ?1 key_hash
  Statement has_admin;
  Statement ping;
};

Result<WriterStatements> prepare_writer(Connection& db);
Result<ReaderStatements> prepare_reader(Connection& db);

// The parts of one dimension-counts table (rollup_daily_dims or rollup_block_dims), whose
// period column is a day or an 8-day block start.
struct DimPartStatements {
  Statement append;    // ?1 link ?2 period ?3 counts blob -> part (1, 2, ...)
  Statement take;      // ?1 link ?2 period -> part, counts of every part, deleted
  Statement put;       // ?1 link ?2 period ?3 counts blob, as part 0
  Statement unfolded;  // ?1 periods before ?2 limit -> link, period with parts to fold
};

// SqliteClickStore's statements, prepared on the shared writer connection.
struct ClickWriterStatements {
  Statement insert_click;  // ?1..?18 in kClickColumns order; no-op when the id exists
  Statement first_visits;  // ?1 link ?2 from ?3 to -> visitor of each first human visit
  Statement add_hourly;    // ?1 link ?2 hour ?3 clicks ?4 uniques ?5 bot_clicks
  Statement add_minutely;  // ?1 link ?2 minute ?3 clicks ?4 uniques ?5 bot_clicks
  DimPartStatements daily_dims;
  DimPartStatements block_dims;
  Statement prune_clicks;    // ?1 at before ?2 chunk rows ?3 id (ULID) before
  Statement prune_minutely;  // ?1 minute before ?2 chunk rows
};

// Every analytics reader's statements. Link sets are bound as one JSON array (?1, read with
// json_each): an account may own thousands of links, past SQLite's bound-parameter limit.
struct ClickReaderStatements {
  Statement series_hourly;     // ?1 links ?2 from ?3 to -> link, hour, clicks, uniques, bot_clicks
  Statement series_minutely;   // same, from rollup_minutely (minute starts)
  Statement daily_dims;        // ?1 links ?2 from day ?3 to day -> counts blobs
  Statement daily_increments;  // same, parts 1, 2, ... only (not yet folded into blocks)
  Statement block_dims;        // ?1 links ?2 from block ?3 to block -> counts blobs
  Statement export_page;       // ?1 link ?2 after at ?3 after id ?4 to ?5 limit; kClickColumns
};

Result<ClickWriterStatements> prepare_click_writer(Connection& db);
Result<ClickReaderStatements> prepare_click_reader(Connection& db);

// A link row as selected or returned by the statements above.
Link read_link(const Query& row);
// A click row as selected by export_page (the clicks table's columns, in order).
EnrichedClick read_click(const Query& row);

// The domain says 0 for anonymous; the schema says NULL (a foreign key cannot point at 0).
inline std::optional<std::int64_t> account_column(std::int64_t account_id) {
  return account_id == 0 ? std::nullopt : std::optional<std::int64_t>(account_id);
}

}  // namespace shortener::sqlite
