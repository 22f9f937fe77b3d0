// PostgresClickStore: the production ClickStore + StatsStore, on the PostgreSQL database of
// PostgresStore. Same results as the SQLite adapter for the same data (the contract tests run
// both); several worker processes may write at once.
//
// Write path, one transaction per write() (the in-memory half is pg::ClickBatch):
//   1. INSERT INTO visitors ... ON CONFLICT DO NOTHING RETURNING for the first human click of
//      each (UTC day, link, visitor) in the batch: a returned row means this click is the
//      visitor's first of the day, so it is `unique`.
//   2. INSERT INTO clicks ... ON CONFLICT (id, at) DO NOTHING RETURNING id: the returned ids are
//      the events not stored before; the rest are replays and count nowhere.
//   3. (rare) A visitor row claimed in 1 for a replayed event goes to the next stored click of
//      that visitor, or is deleted, so replays leave no trace.
//   4. Rollups of the stored clicks, summed in memory first: upserts of one row per touched
//      (link, hour) and (link, minute), `ON CONFLICT ... DO UPDATE SET clicks = r.clicks +
//      excluded.clicks`; and one appended row per touched (link, UTC day) holding the batch's
//      dimension counts as a blob (dim_counts.h). Appending, not upserting, because a batch
//      touches ~8x more (link, day, dimension, value) keys than (link, day) rows, and upserts
//      of those were 60 % of the server's work per batch (measured, bench/pg).
// After the commit, a link-day this process has appended kCompactAfter rows to is compacted:
// its rows are deleted and their sum inserted, in one short transaction of its own, so stats()
// reads a bounded number of blobs per busy link-day. Concurrent compactions of one link-day
// are safe: each folds only the rows its DELETE saw.
//
// Every statement takes the whole batch as one array per column (unnest), so a batch is ~7
// round trips whatever its size. Rows go in key order, so concurrent writers lock shared rows
// in the same order; a deadlock or serialisation failure still surfaces as Errc::unavailable,
// and the caller retries the batch (write() is idempotent).
//
// The monthly partition a click needs is created before the transaction when this process has
// not seen it yet (partitions.h).
//
// Read path: stats() reads only rollups, in one REPEATABLE READ READ ONLY transaction (a single
// snapshot). export_clicks() pages through raw rows on the (link_id, at, id) index.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/click_ports.h"
#include "core/error.h"
#include "storage/postgres/postgres_store.h"

namespace shortener {

namespace pg {
class Pool;
class Connection;
struct Month;
}  // namespace pg

class PostgresClickStore final : public ClickStore, public StatsStore {
 public:
  // Like PostgresStore::open: connects `options.pool_size` connections to `url` (migrated
  // already) and prepares the analytics statements.
  static Result<std::unique_ptr<PostgresClickStore>> open(const std::string& url,
                                                          const PostgresOptions& options = {});
  ~PostgresClickStore() override;
  PostgresClickStore(const PostgresClickStore&) = delete;
  PostgresClickStore& operator=(const PostgresClickStore&) = delete;

  // Atomic and idempotent per event id; sets `unique`, removes replayed events from `clicks`.
  Result<WriteResult> write(std::vector<EnrichedClick>& clicks) override;
  // Drops the monthly partitions that end at or before raw_before, then deletes the remaining
  // raw clicks with at < raw_before (the partition straddling the cut-off), minute rollups
  // with minute < minutes_before and visitor rows before minutes_before's UTC day, in chunks of
  // kPruneChunk rows, each its own short transaction. Then folds the dimension rows of the
  // link-days this process wrote to before the day after that into one row each (up to
  // kFoldPerPrune a call).
  Result<void> prune(TimeUs raw_before, TimeUs minutes_before) override;

  Result<Stats> stats(const StatsQuery& query) override;
  Result<void> export_clicks(std::int64_t link_id, TimeUs from, TimeUs to,
                             const std::function<bool(const EnrichedClick&)>& row) override;

 private:
  explicit PostgresClickStore(std::unique_ptr<pg::Pool> pool);

  Result<void> ensure_partitions(pg::Connection& db, const std::vector<pg::Month>& months);
  Result<void> delete_in_chunks(const char* statement, TimeUs before, const std::string* id_before);
  // Counts the dimension rows appended per link-day; returns those due for compaction.
  std::vector<std::pair<std::int64_t, TimeUs>> crowded_days(
      const std::vector<std::pair<std::int64_t, TimeUs>>& appended);
  // Takes up to `limit` counted link-days of days before `before`, for a final compaction.
  std::vector<std::pair<std::int64_t, TimeUs>> settled_days(TimeUs before, std::size_t limit);

  std::unique_ptr<pg::Pool> pool_;
  std::mutex partitions_mu_;
  std::set<TimeUs> partitions_;  // starts of the months known to have a partition
  std::mutex dim_rows_mu_;
  std::map<std::pair<std::int64_t, TimeUs>, int> dim_rows_;  // (link, day) -> rows appended
};

}  // namespace shortener
