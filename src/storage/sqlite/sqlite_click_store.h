// SqliteClickStore: the embedded default ClickStore + StatsStore, on the same SQLite file as
// SqliteStore (made by SqliteStore::open_click_store; schema and semantics: README.md).
//
// Write path: one BEGIN IMMEDIATE transaction on the writer connection it shares with
// SqliteStore, for one write() or, when several workers call write() while a transaction is
// under way, for all of them at once (group commit: the rollup rows and the commit are paid
// once per group). For each click, oldest first, the raw row, skipped when its id exists (a
// replay, which counts nowhere). A human click is `unique` (first_of_day = 1) when its visitor
// is not among the first visits of its (link, UTC day): an in-memory set per link-day
// (storage/common/first_visits.h), loaded from the raw rows the first time a batch touches it (so
// it survives restarts, for any day whose raw rows are kept) and updated only after a commit.
// Stored clicks are summed in memory per batch, then each touched rollup row is upserted once:
// (link, hour) and (link, minute) counters; the batch's (link, day) and (link, 8-day block)
// dimension counts (dim_counts.h) are appended as the next part of that period, and the 32nd part
// folds them all into part 0 (their sum). Folding rewrites a busy link's big blob once per 32
// transactions instead of once per transaction; prune() folds what is left of settled periods.
//
// Read path: stats() reads only rollups, inside one read transaction (a single snapshot), on a
// reader connection of its own pool: hourly or minute rows for the series and totals, and for
// the dimensions whole 8-day blocks plus single days at the ends (≤ 25 blobs for 90 days).
// Cost grows with the range and the links' distinct values, never with raw clicks.
// export_clicks() pages through raw rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/click_ports.h"
#include "core/error.h"

namespace shortener {

namespace sqlite {
class Connection;
template <class Statements>
class ReaderPool;
struct ClickReaderStatements;
}  // namespace sqlite

class SqliteStore;

class SqliteClickStore final : public ClickStore, public StatsStore {
 public:
  ~SqliteClickStore() override;
  SqliteClickStore(const SqliteClickStore&) = delete;
  SqliteClickStore& operator=(const SqliteClickStore&) = delete;

  // Atomic and idempotent per event id; sets `unique`, removes replayed events from `clicks`.
  // Errc::unavailable when the write lock cannot be had within busy_timeout (retry the batch).
  Result<WriteResult> write(std::vector<EnrichedClick>& clicks) override;
  // Deletes raw clicks with at < raw_before (found by their ULID prefix: ids are minted at the
  // click's time) and minute rollups with minute < minutes_before, and forgets the in-memory
  // first visits of UTC days before minutes_before's (a late click reloads its day). In chunks
  // of 5,000 rows, each its own short transaction and writer-mutex hold, so link writes and
  // click batches interleave with a long prune. Hourly and dimension rollups are kept; the
  // dimension parts of days (and blocks) before the day after minutes_before's are folded into
  // one row each (up to 1,000 periods a call, a transaction each).
  Result<void> prune(TimeUs raw_before, TimeUs minutes_before) override;

  // Sparse time series (run fill_timeseries), totals from the same rows as the series, top
  // values per dimension over the UTC days overlapping [from, to), top_links for several links.
  Result<Stats> stats(const StatsQuery& query) override;
  // Raw clicks with from <= at < to, ordered by (at, id), in pages of 1,000 rows; no
  // snapshot or reader is held while `row` runs, so a slow consumer blocks nothing.
  Result<void> export_clicks(std::int64_t link_id, TimeUs from, TimeUs to,
                             const std::function<bool(const EnrichedClick&)>& row) override;

 private:
  friend class SqliteStore;
  struct Writer;
  using ReaderPool = sqlite::ReaderPool<sqlite::ClickReaderStatements>;

  // Folds the dimension parts of up to kFoldPerPrune days (or blocks) that start before
  // `before`.
  Result<void> fold_settled(bool blocks, TimeUs before);

  // `writer` and `writer_mu` are SqliteStore's (aliasing pointers that keep it alive).
  static Result<std::unique_ptr<SqliteClickStore>> open(std::shared_ptr<sqlite::Connection> writer,
                                                        std::shared_ptr<std::mutex> writer_mu,
                                                        const std::string& path, int readers,
                                                        std::chrono::milliseconds busy_timeout);
  SqliteClickStore(std::unique_ptr<Writer> writer, std::unique_ptr<ReaderPool> readers);

  // Readers close first (declared last), so the shared writer stays the last connection.
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ReaderPool> readers_;
};

}  // namespace shortener
