// PostgresClickStore: the production ClickStore + StatsStore, on the PostgreSQL database of
// PostgresStore. Same results as the SQLite adapter for the same data (the contract tests run
// both); several worker processes may write at once.
//
// Write path, one transaction per write() (the in-memory half is pg::ClickBatch):
//   1. INSERT INTO visitors ... ON CONFLICT DO NOTHING RETURNING for the first human click of
//      each (UTC day, link, visitor) in the batch: a returned row means this click is the
//      visitor's first of the day, so it is `unique`. Keys this process has seen claimed in a
//      committed batch are left out (a committed claim is never taken back): with visitors
//      coming back all day, most keys (measured, bench/reference.sh) need no round trip to the
//      index. At most kMaxKnownClaims are kept; past that the memory starts over.
//   2. COPY clicks FROM STDIN (binary): every event is new, the rule. When one was stored before
//      (a replay), the unique violation aborts the transaction and the batch goes again from
//      step 1 with INSERT INTO clicks ... ON CONFLICT (id, at) DO NOTHING RETURNING id: the
//      returned ids are the events not stored before; the rest count nowhere. (COPY: no array
//      parsing, no per-row conflict probe, nothing returned; measured with bench/reference.sh.)
//   3. (rare) A visitor row claimed in 1 for a replayed event goes to the next stored click of
//      that visitor, or is deleted, so replays leave no trace.
//   4. Rollup increments of the stored clicks, summed in memory first: counts per (link,
//      minute) and dimension counts per (link, UTC day) (a blob, dim_counts.h), appended as one
//      row per link shard (link_id % 16) to pending_counts and pending_dims. A batch touches
//      no rollup row, so concurrent writers never wait on each other's row locks.
// Folding (fold_pending(): after a write every kFoldInterval per process, and in prune()), one
// transaction, one process at a time (pg_try_advisory_xact_lock; the others skip): takes the
// oldest kFoldRows pending rows of each table (a backlog goes in several folds), sums the counts
// per (link, minute) and upserts them into rollup_hourly and rollup_minutely (`ON CONFLICT ... DO
// UPDATE SET clicks = r.clicks + excluded.clicks`, in key order), and appends one rollup_daily_dims
// row per (link, day) with the summed blob. With clicks spread over many links a batch touched ~1
// rollup row per click in each of three tables; a fold of ~2 s of batches touches each busy (link,
// minute) once (measured, bench/ reference.sh with BENCH_PG_STATEMENTS=1: rollups were ~half of the
// server's time). After a fold, a link-day this process has appended kCompactAfter dimension rows
// to is compacted: its rows are deleted and their sum inserted, in one short transaction of its
// own, so stats() reads a bounded number of blobs per busy link-day. Concurrent compactions of one
// link-day are safe: each folds only the rows its DELETE saw.
//
// Every statement takes the whole batch as one array per column (unnest), so a batch is ~6
// round trips whatever its size. A deadlock or serialisation failure surfaces as
// Errc::unavailable, and the caller retries the batch (write() is idempotent).
//
// The monthly partition a click needs is created before the transaction when this process has
// not seen it yet (partitions.h).
//
// Read path: stats() reads the rollups plus the pending increments of the links' shards, in one
// REPEATABLE READ READ ONLY transaction: a fold moves counts from pending to the rollups in one
// commit, so every snapshot counts each click once. export_clicks() pages through raw rows on the
// (link_id, at, id) index.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/click_ports.h"
#include "core/error.h"
#include "storage/common/first_visits.h"
#include "storage/postgres/postgres_store.h"

namespace shortener {

namespace pg {
class Pool;
class Connection;
struct Month;
}  // namespace pg

struct PostgresClickCounters {
  std::uint64_t folds = 0;           // folds this process ran (committed)
  std::uint64_t fold_skips = 0;      // another process was folding
  std::uint64_t fold_failures = 0;   // failed folds (the increments stay pending: nothing lost)
  double fold_seconds = 0;           // time in committed folds
  std::uint64_t copy_conflicts = 0;  // batches whose COPY met a stored event (INSERT instead)
};

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

  // Folds the pending rollup increments into the rollups (see above), kFoldRows pending rows of
  // each table per transaction until none is left (at most kMaxFoldSteps), unless another
  // process is folding (false). write() folds one step every kFoldInterval (at once again
  // while a backlog remains), prune() calls this every time.
  Result<bool> fold_pending();
  PostgresClickCounters counters() const;

  Result<Stats> stats(const StatsQuery& query) override;
  Result<void> export_clicks(std::int64_t link_id, TimeUs from, TimeUs to,
                             const std::function<bool(const EnrichedClick&)>& row) override;

 private:
  explicit PostgresClickStore(std::unique_ptr<pg::Pool> pool);

  static constexpr std::chrono::milliseconds kFoldInterval{2000};

  // Visitor claims remembered per process (storage/common/first_visits.h): 16-32 bytes each
  // (slots at most half full) plus ~240 bytes per link-day, so ~32-64 MB at the bound.
  static constexpr std::size_t kMaxKnownClaims = 2'000'000;

  // Pending rows (of each table) one fold takes: ~250 full batches, a few hundred ms.
  static constexpr std::int64_t kFoldRows = 4000;
  static constexpr int kMaxFoldSteps = 100;  // folds per fold_pending() call

  enum class Fold { skipped, done, more };  // `more`: kFoldRows taken, some may be left
  Result<Fold> fold(pg::Connection& db);    // fold_once, counted
  Result<Fold> fold_once(pg::Connection& db);
  void remember_claims(const std::vector<std::tuple<std::int64_t, TimeUs, std::uint64_t>>& claims);
  // True for the one caller that should fold now (every kFoldInterval per process).
  bool fold_due();
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
  std::atomic<std::int64_t> next_fold_ns_{0};                // steady clock
  std::atomic<std::uint64_t> copy_conflicts_{0};
  std::atomic<std::uint64_t> folds_{0}, fold_skips_{0}, fold_failures_{0}, fold_ns_{0};
  std::mutex claims_mu_;
  storage::FirstVisits claims_;  // visitor claims seen committed: their clicks are not unique
  std::size_t claims_size_ = 0;
};

}  // namespace shortener
