// SqliteClickStore: the embedded default ClickStore + StatsStore, on the same SQLite file as
// SqliteStore (made by SqliteStore::open_click_store; schema and semantics: README.md).
//
// Write path, one BEGIN IMMEDIATE transaction per write() on the writer connection it shares
// with SqliteStore: for each click, oldest first, (1) a visitors row (day, link, visitor) —
// inserted means this is the visitor's first click of the UTC day on the link, so the click is
// `unique`; bots never get one — then (2) the raw row, skipped when its id exists (a replay:
// the visitor row is undone and nothing else is counted). Stored clicks are summed in memory per
// batch, then each touched rollup row is upserted once: (link, hour) and (link, minute) counters,
// and the (link, day) and (link, 8-day block) dimension-count blobs (dim_counts.h), merged in
// SQL by dim_counts_merge.
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
  // click's time), minute rollups with minute < minutes_before, and visitor rows of UTC days
  // before minutes_before's (uniqueness needs today and, for late clicks, yesterday). In chunks
  // of 5,000 rows, each its own short transaction and writer-mutex hold, so link writes and
  // click batches interleave with a long prune. Hourly and dimension rollups are kept.
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
