// The in-memory half of PostgresClickStore::write(): orders and de-duplicates one batch, builds
// the array parameters of each statement, folds the server's answers back into the clicks, and
// sums the rollup increments of what was stored.
//
// The flow (one transaction; see postgres_click_store.h):
//   visitor_params -> INSERT visitors ... RETURNING -> claimed()   (sets `unique`)
//   click_params   -> INSERT clicks ... RETURNING   -> stored()    (what is new)
//   repairs()      -> a claimed visitor whose click was a replay is handed on or released
//   minutely_params -> the stored clicks' counts per (link, minute)   } appended to the pending
//   dims_params     -> their dimension counts per (link, UTC day)      } increments, by shard
//   finish()       -> the caller's vector keeps only the stored clicks, in its order
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/click_ports.h"
#include "storage/common/first_visits.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/dim_counts.h"
#include "storage/postgres/partitions.h"

namespace shortener::pg {

class ClickBatch {
 public:
  // Keeps a reference to `clicks`; finish() compacts it.
  explicit ClickBatch(std::vector<EnrichedClick>& clicks);

  // The UTC months the batch's clicks fall in, each once.
  std::vector<Month> months() const;

  // (day, link, visitor) of the first human click of each visitor, link and UTC day in the
  // batch (by time), sorted by key. Empty when the batch has no human click.
  bool has_visitors() const { return !candidates_.empty(); }
  // Leaves out the candidates whose claim `known` holds (committed before: not unique).
  void skip_claimed(const storage::FirstVisits& known);
  Params visitor_params() const;
  // Rows (day, link_id, visitor) the insert created: those clicks are `unique`.
  void claimed(const PgResult& rows);

  // Every distinct event of the batch, sorted by id.
  Params click_params() const;
  // Rows (id) the insert created: the events not stored before.
  void stored(const PgResult& rows);
  // The same events as COPY input (binary format, stmt::kCopyClicks). A COPY stores all of
  // them or fails (a unique violation: some were stored before); then stored_all().
  std::string click_copy() const;
  void stored_all();

  // A visitor row claimed for a click that turned out to be stored already (a replay whose
  // visitor row was pruned, or a race with another worker) must not stay: it goes to the next
  // stored click of the same key (`mark`: set its first_of_day), or is deleted (`release`).
  struct Repair {
    const char* statement;  // stmt::kMarkFirstOfDay or stmt::kDeleteVisitor
    Params params;
  };
  std::vector<Repair> repairs();

  // Increments of the stored clicks, one row per key, sorted by key.
  bool has_stored() const;
  Params minutely_params() const;
  // Dimension counts of the stored clicks: a blob (dim_counts.h) per (link, UTC day).
  Params dims_params() const;

  // After the commit, before finish(): the claims that now stand committed, for every candidate
  // sent (claimed now, or by someone before) but the released ones. (link, day, visitor key).
  std::vector<std::tuple<std::int64_t, TimeUs, std::uint64_t>> committed_claims() const;

  WriteResult finish();

 private:
  std::map<std::pair<std::int64_t, TimeUs>, DimCountsBuilder> dim_counts() const;
  std::vector<std::size_t> pending_by_id() const;  // pending_, sorted by event id

  std::vector<EnrichedClick>& clicks_;
  std::vector<std::size_t> pending_;     // distinct events (first of each id), oldest first
  std::vector<std::size_t> candidates_;  // first human click per visitor key, sorted by key
  std::vector<char> stored_;             // per index of clicks_
  std::vector<std::size_t> released_;    // candidates whose claim repairs() deletes
};

}  // namespace shortener::pg
