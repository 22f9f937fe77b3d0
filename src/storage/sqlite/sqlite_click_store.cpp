#include "storage/sqlite/sqlite_click_store.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "storage/common/first_visits.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/dim_counts.h"
#include "storage/sqlite/reader_pool.h"
#include "storage/sqlite/statements.h"

namespace shortener {

using sqlite::Connection;
using sqlite::Query;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr std::int64_t kMinuteUs = interval_us(Interval::minute);
constexpr std::int64_t kHourUs = interval_us(Interval::hour);
constexpr std::int64_t kDayUs = interval_us(Interval::day);
// Dimension blocks: a range reads whole 8-day blocks plus at most 7 single days at each end,
// so a 90-day query reads at most 25 periods (not 90). Transactions write days only; a block
// gets a part each time one of its days is folded (fold_day).
constexpr std::int64_t kBlockUs = 8 * kDayUs;
// Dimension-count parts a (link, period) gathers before they are folded into one: bounds what
// stats() decodes for a busy period to kFoldAfter blobs (small ones but the first; a block's
// days add their unfolded parts, in practice those of today and yesterday), and rewrites the
// folded blob once per kFoldAfter transactions (or day folds, for a block) instead of each time.
constexpr std::int64_t kFoldAfter = 32;
// Days, and then blocks, folded per prune() call once late clicks no longer reach them (one
// transaction each).
constexpr std::int64_t kFoldPerPrune = 1000;
// Rows deleted per prune transaction: a few ms of write lock, about one click batch, so a link
// write never waits behind a prune longer than behind a batch.
constexpr std::int64_t kPruneChunk = 5000;
// Raw rows per export statement: amortises the index seek; a page is ~0.5 MB in memory.
constexpr std::int64_t kExportPage = 1000;
// Page cache (negative = KiB). A write batch touches index and rollup pages of hundreds of
// links: with SQLite's 2 MB default most are re-read from the OS on every batch, and 64 MB
// doubled write throughput in stats_bench. Pages not cached are read through a memory map (up
// to 1 GiB of the file; address space, not memory) instead of a read() each. Applies to the
// writer SqliteStore shares with this store.
constexpr std::string_view kWriterPragmas =
    "PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824";
// Checkpoints (copying the WAL back into the database file) are taken off the writer lock: a
// click writer that has released it checkpoints, on a connection of its own, once the WAL holds
// kCheckpointAfter pages (~40 MB; a batch appends a few hundred), PASSIVE so the next batch is
// written meanwhile. The WAL can only start over when a checkpoint saw no write land, so past
// kCheckpointInLock pages the committing writer checkpoints itself, as SQLite's autocheckpoint
// would: that bounds the WAL to ~160 MB under constant load.
constexpr int kCheckpointAfter = 10000;
constexpr int kCheckpointInLock = 40000;
// A 90-day query reads ~5 MB of a hot link's rollups; 16 MB per reader keeps them cached.
constexpr std::string_view kReaderPragmas = "PRAGMA cache_size = -16384";

template <class T>
std::unexpected<Error> propagate(Result<T>& failed) {
  return std::unexpected(std::move(failed.error()));
}

TimeUs floor_to(TimeUs t, std::int64_t step) {
  const TimeUs aligned = t / step * step;
  return aligned > t ? aligned - step : aligned;  // negative times round toward -inf
}

// Where stats() puts each dimension's top values, in Dim order.
constexpr std::array<std::vector<Count> Stats::*, sqlite::kDimCount> kDimOutputs = {
    &Stats::countries, &Stats::cities,   &Stats::referrers,
    &Stats::devices,   &Stats::browsers, &Stats::os};

// ULID prefix (10 Crockford base32 symbols) of the millisecond of `t`: every event id minted
// before that millisecond sorts below it.
std::string ulid_floor(TimeUs t) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  auto ms = static_cast<std::uint64_t>(std::max<TimeUs>(t, 0) / 1000);
  std::string prefix(10, '0');
  for (int i = 9; i >= 0; --i, ms >>= 5) prefix[static_cast<std::size_t>(i)] = kCrockford[ms & 31];
  return prefix;
}

struct Part {
  std::int64_t number;  // 0: folded
  std::string counts;
};

// Deletes and returns every part of one (link, period).
Result<std::vector<Part>> take_parts(Connection& db, const sqlite::DimPartStatements& st,
                                     std::int64_t link_id, TimeUs period) {
  std::vector<Part> parts;
  Query take(st.take, db.get());
  take.bind(1, link_id).bind(2, period);
  for (;;) {
    auto row = take.step();
    if (!row) return propagate(row);
    if (!*row) return parts;
    parts.push_back(Part{take.int64(0), std::string(take.blob(1))});
  }
}

// The sum of `parts` but the one at `skip` (if any).
Result<std::string> sum_parts(const std::vector<Part>& parts, const Part* skip) {
  std::vector<std::string_view> blobs;
  for (const Part& p : parts)
    if (&p != skip) blobs.push_back(p.counts);
  return storage::sum_dim_counts(blobs);
}

// Appends the next part of (link, period); returns its number (1, 2, ...).
Result<std::int64_t> append_part(Connection& db, const sqlite::DimPartStatements& st,
                                 std::int64_t link_id, TimeUs period, std::string_view blob) {
  Query append(st.append, db.get());
  append.bind(1, link_id).bind(2, period).bind_blob(3, blob);
  auto row = append.step();
  if (!row) return propagate(row);
  const std::int64_t part = *row ? append.int64(0) : 0;
  if (auto ok = append.finish(); !ok) return propagate(ok);
  return part;
}

// Replaces the parts of one (link, block) by their sum, as part 0, inside the caller's
// transaction. A malformed part fails it (Errc::internal) and leaves everything as it was.
Result<void> fold_block(Connection& db, const sqlite::ClickWriterStatements& st,
                        std::int64_t link_id, TimeUs block) {
  auto parts = take_parts(db, st.block_dims, link_id, block);
  if (!parts) return propagate(parts);
  if (parts->empty()) return {};
  // The folded part is big and the others small: sum the small ones, then one linear merge
  // into the biggest (instead of re-sorting every entry of it).
  const Part& big = *std::max_element(
      parts->begin(), parts->end(),
      [](const auto& a, const auto& b) { return a.counts.size() < b.counts.size(); });
  auto small = sum_parts(*parts, &big);
  if (!small) return propagate(small);
  auto sum = storage::merge_dim_counts(big.counts, *small);
  if (!sum) return propagate(sum);
  Query put(st.block_dims.put, db.get());
  put.bind(1, link_id).bind(2, block).bind_blob(3, *sum);
  return put.finish();
}

// Adds `blob` to (link, block) as its next part; the kFoldAfter-th folds them all.
Result<void> add_to_block(Connection& db, const sqlite::ClickWriterStatements& st,
                          std::int64_t link_id, TimeUs block, std::string_view blob) {
  auto part = append_part(db, st.block_dims, link_id, block, blob);
  if (!part) return propagate(part);
  return *part >= kFoldAfter ? fold_block(db, st, link_id, block) : Result<void>{};
}

// Folds the increments (parts 1, 2, ...) of one (link, day) into its part 0, and hands their
// sum to the day's 8-day block as its next part: a block holds exactly the increments folded
// out of its days, so a range reads a block's rows plus its days' unfolded parts.
Result<void> fold_day(Connection& db, const sqlite::ClickWriterStatements& st, std::int64_t link_id,
                      TimeUs day) {
  auto parts = take_parts(db, st.daily_dims, link_id, day);
  if (!parts) return propagate(parts);
  const auto base =
      std::find_if(parts->begin(), parts->end(), [](const Part& p) { return p.number == 0; });
  const Part* folded = base == parts->end() ? nullptr : &*base;
  auto increments = sum_parts(*parts, folded);
  if (!increments) return propagate(increments);
  auto sum = storage::merge_dim_counts(folded ? std::string_view(folded->counts) : "", *increments);
  if (!sum) return propagate(sum);
  if (!sum->empty()) {
    Query put(st.daily_dims.put, db.get());
    put.bind(1, link_id).bind(2, day).bind_blob(3, *sum);
    if (auto ok = put.finish(); !ok) return ok;
  }
  if (increments->empty()) return {};
  return add_to_block(db, st, link_id, floor_to(day, kBlockUs), *increments);
}

struct Counts {
  std::int64_t clicks = 0;  // humans only
  std::int64_t uniques = 0;
  std::int64_t bots = 0;

  void add(const EnrichedClick& click) {
    (click.bot ? bots : clicks) += 1;
    uniques += click.unique ? 1 : 0;
  }
};

using BucketKey = std::pair<std::int64_t, TimeUs>;  // link, bucket start

// The counter increments of one batch, summed in memory: each touched (link, hour) and (link,
// minute) row is upserted once with its sum instead of once per click.
class BatchCounts {
 public:
  void add(const EnrichedClick& click) {
    hours_[{click.link_id, floor_to(click.at, kHourUs)}].add(click);
    minutes_[{click.link_id, floor_to(click.at, kMinuteUs)}].add(click);
  }

  Result<void> flush(Connection& db, const sqlite::ClickWriterStatements& st) const {
    for (const auto& [key, counts] : hours_)
      if (auto ok = add_counts(db, st.add_hourly, key, counts); !ok) return ok;
    for (const auto& [key, counts] : minutes_)
      if (auto ok = add_counts(db, st.add_minutely, key, counts); !ok) return ok;
    return {};
  }

 private:
  static Result<void> add_counts(Connection& db, const Statement& stmt, const BucketKey& key,
                                 const Counts& counts) {
    Query add(stmt, db.get());
    add.bind(1, key.first).bind(2, key.second).bind(3, counts.clicks);
    add.bind(4, counts.uniques).bind(5, counts.bots);
    return add.finish();
  }

  // Ordered maps: upserts walk each table's key in order.
  std::map<BucketKey, Counts> hours_;
  std::map<BucketKey, Counts> minutes_;
};

// The dimension counts of a batch's stored clicks, encoded: one part per touched (link, day).
// (Blocks get theirs when a day's parts are folded: fold_day.) They do not depend on uniqueness, so
// write() encodes them before it takes the writer lock (and again under it only when the batch held
// replays).
class BatchDims {
 public:
  template <class Stored>
  static BatchDims of(const std::vector<EnrichedClick>& clicks, Stored stored) {
    std::map<BucketKey, storage::DimCountsBuilder> days;
    for (std::size_t i = 0; i < clicks.size(); ++i)
      if (stored(i)) days[{clicks[i].link_id, floor_to(clicks[i].at, kDayUs)}].add(clicks[i]);
    BatchDims out;
    for (const auto& [key, builder] : days) out.days_.emplace(key, builder.encode());
    return out;
  }

  // Adds another batch's parts (a group commit appends one part per period for all).
  Result<void> merge(const BatchDims& other) {
    for (const auto& [key, blob] : other.days_) {
      std::string& sum = days_[key];
      auto merged = storage::merge_dim_counts(sum, blob);
      if (!merged) return propagate(merged);
      sum = std::move(*merged);
    }
    return {};
  }

  // One part per (link, day); the kFoldAfter-th folds them (and feeds the day's block).
  Result<void> append(Connection& db, const sqlite::ClickWriterStatements& st) const {
    for (const auto& [key, blob] : days_) {
      auto part = append_part(db, st.daily_dims, key.first, key.second, blob);
      if (!part) return propagate(part);
      if (*part < kFoldAfter) continue;
      if (auto ok = fold_day(db, st, key.first, key.second); !ok) return ok;
    }
    return {};
  }

 private:
  std::map<BucketKey, std::string> days_;  // ordered: appends walk the table's key in order
};

// Stores one click unless its id is stored already (then returns false and changes nothing).
// `first_today` (the caller's verdict) goes into the raw row as first_of_day.
Result<bool> store_click(Connection& db, const sqlite::ClickWriterStatements& st,
                         EnrichedClick& click, bool first_today) {
  Query insert(st.insert_click, db.get());
  insert.bind(1, click.id).bind(2, click.link_id).bind(3, click.at).bind(4, click.country);
  insert.bind(5, click.region).bind(6, click.city).bind(7, click.referrer);
  insert.bind(8, click.device).bind(9, click.browser).bind(10, click.browser_version);
  insert.bind(11, click.os).bind(12, std::int64_t{click.bot}).bind(13, click.bot_reason);
  insert.bind(14, click.visitor).bind(15, click.utm_source).bind(16, click.destination);
  insert.bind(17, click.ip_prefix).bind(18, std::int64_t{first_today});
  if (auto ok = insert.finish(); !ok) return std::unexpected(std::move(ok.error()));
  if (sqlite3_changes(db.get()) == 0) return false;
  click.unique = first_today;
  return true;
}

// The first visits of (link, day) from the raw rows (committed ones: a batch loads a link-day
// before writing any click of it).
Result<void> load_first_visits(Connection& db, const sqlite::ClickWriterStatements& st,
                               const storage::FirstVisits::LinkDay& key, storage::VisitorSet& set) {
  Query rows(st.first_visits, db.get());
  rows.bind(1, key.first).bind(2, key.second).bind(3, key.second + kDayUs);
  for (;;) {
    auto row = rows.step();
    if (!row) return propagate(row);
    if (!*row) return {};
    set.insert(storage::visitor_key(rows.blob(0)));
  }
}

// One write() call in a group commit: its clicks, what the leader found stored, its result.
struct GroupMember {
  std::vector<EnrichedClick>* clicks;
  BatchDims dims;  // of every click, encoded before the lock; redone if some were replays
  std::vector<char> stored = std::vector<char>(clicks->size(), 0);
  std::optional<Result<WriteResult>> result;  // set by the leader

  // Keeps only what was stored now, in the caller's order: that is what gets published.
  WriteResult finish() {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < clicks->size(); ++i) {
      if (stored[i] && kept != i) (*clicks)[kept] = std::move((*clicks)[i]);
      kept += stored[i] ? 1 : 0;
    }
    const WriteResult out{.inserted = kept, .duplicates = clicks->size() - kept};
    clicks->resize(kept);
    return out;
  }
};

// The clicks of a group by time (stable): the first click of a visitor's day gets the `unique`
// even when batches arrive out of order.
std::vector<std::pair<GroupMember*, std::size_t>> oldest_first(
    const std::vector<GroupMember*>& group) {
  std::vector<std::pair<GroupMember*, std::size_t>> order;
  for (GroupMember* m : group)
    for (std::size_t i = 0; i < m->clicks->size(); ++i) order.emplace_back(m, i);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return (*a.first->clicks)[a.second].at < (*b.first->clicks)[b.second].at;
  });
  return order;
}

std::string json_array(const std::vector<std::int64_t>& ids) {
  std::string json = "[";
  for (std::int64_t id : ids) {
    if (json.size() > 1) json += ',';
    json += std::to_string(id);
  }
  return json + "]";
}

// Sparse buckets, totals and (for several links) the top links, in one pass over the rollup
// rows of the range; totals come from the same rows as the buckets, so total == Σ buckets.
Result<void> read_series(Connection& db, const Statement& stmt, std::string_view links, TimeUs from,
                         const StatsQuery& query, Stats& out) {
  const std::int64_t width = interval_us(query.interval);
  std::map<TimeUs, Bucket> buckets;
  std::unordered_map<std::int64_t, std::int64_t> per_link;
  Query rows(stmt, db.get());
  rows.bind(1, links).bind(2, from).bind(3, query.to);
  for (;;) {
    auto row = rows.step();
    if (!row) return propagate(row);
    if (!*row) break;
    const std::int64_t bots = rows.int64(4);
    const std::int64_t clicks = rows.int64(2) + (query.include_bots ? bots : 0);
    const TimeUs t = floor_to(rows.int64(1), width);
    Bucket& bucket = buckets.try_emplace(t, Bucket{t, 0, 0}).first->second;
    bucket.clicks += clicks;
    bucket.unique += rows.int64(3);
    out.total += clicks;
    out.unique += rows.int64(3);
    out.bots += bots;
    if (query.link_ids.size() > 1) per_link[rows.int64(0)] += clicks;
  }
  for (const auto& [t, bucket] : buckets) out.timeseries.push_back(bucket);
  for (const auto& [link, clicks] : per_link)
    if (clicks > 0) out.top_links.emplace_back(link, clicks);
  const auto by_clicks_then_id = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const std::size_t top = std::min(query.top, out.top_links.size());
  std::partial_sort(out.top_links.begin(), out.top_links.begin() + static_cast<std::ptrdiff_t>(top),
                    out.top_links.end(), by_clicks_then_id);
  out.top_links.resize(top);
  return {};
}

// Adds the dims blobs of [from, to) (period starts) of `stmt`'s table to `totals`.
Result<void> read_dims(Connection& db, const Statement& stmt, std::string_view links, TimeUs from,
                       TimeUs to, sqlite::DimTotals& totals) {
  if (from >= to) return {};
  Query rows(stmt, db.get());
  rows.bind(1, links).bind(2, from).bind(3, to);
  for (;;) {
    auto row = rows.step();
    if (!row) return propagate(row);
    if (!*row) return {};
    if (auto ok = totals.add(rows.blob(0)); !ok) return ok;
  }
}

// Top values of every dimension over the UTC days overlapping [query.from, query.to): whole
// 8-day blocks inside that span, single days at its ends.
Result<void> read_dimensions(Connection& db, const sqlite::ClickReaderStatements& st,
                             std::string_view links, const StatsQuery& query, Stats& out) {
  const TimeUs first_day = floor_to(query.from, kDayUs);
  const TimeUs end_day = floor_to(query.to - 1, kDayUs) + kDayUs;  // exclusive
  TimeUs blocks_from = floor_to(first_day + kBlockUs - 1, kBlockUs);
  TimeUs blocks_to = floor_to(end_day, kBlockUs);
  if (blocks_from >= blocks_to) blocks_from = blocks_to = end_day;  // no whole block: days only
  sqlite::DimTotals totals;
  // A block holds the increments folded out of its days; what is not folded yet is in the days'
  // parts 1, 2, ... (fold_day).
  const std::array<std::pair<const Statement*, std::pair<TimeUs, TimeUs>>, 4> parts = {{
      {&st.daily_dims, {first_day, blocks_from}},
      {&st.block_dims, {blocks_from, blocks_to}},
      {&st.daily_increments, {blocks_from, blocks_to}},
      {&st.daily_dims, {blocks_to, end_day}},
  }};
  for (const auto& [stmt, span] : parts)
    if (auto ok = read_dims(db, *stmt, links, span.first, span.second, totals); !ok) return ok;
  for (std::uint8_t dim = 0; dim < sqlite::kDimCount; ++dim)
    out.*kDimOutputs[dim] =
        totals.top(static_cast<sqlite::Dim>(dim), query.top, query.include_bots);
  return {};
}

}  // namespace

struct SqliteClickStore::Writer {
  std::shared_ptr<Connection> conn;        // SqliteStore's writer connection
  std::shared_ptr<std::mutex> mu;          // and its mutex: held per write() or prune chunk
  sqlite::ClickWriterStatements st;        // declared after `conn`: finalized before it closes
  storage::FirstVisits first_visits;       // of committed clicks; under `mu`
  std::optional<Connection> checkpointer;  // under checkpoint_mu
  std::mutex checkpoint_mu;
  std::atomic<int> wal_pages{0};  // pages in the WAL after the latest commit

  // sqlite3_wal_hook: runs after each commit on the writer connection, under `mu`.
  static int on_commit(void* self, sqlite3* db, const char* /*schema*/, int pages) {
    static_cast<Writer*>(self)->wal_pages.store(pages, std::memory_order_relaxed);
    if (pages >= kCheckpointInLock)
      (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }

  // Group commit: write() calls that arrive while a transaction is under way queue here; when
  // it ends, one of them leads the next transaction for all of them. Per-transaction costs (a
  // rollup row per touched period, the commit's page writes) are then paid once per group.
  std::mutex group_mu;
  std::condition_variable group_cv;
  std::vector<GroupMember*> queued;  // under group_mu
  bool leading = false;              // under group_mu

  Result<void> write_group(const std::vector<GroupMember*>& group) {
    const auto order = oldest_first(group);
    BatchCounts counts;
    std::lock_guard lock(*mu);
    auto tx = Transaction::begin(*conn);
    if (!tx) return propagate(tx);
    // First visits of this transaction: they join first_visits once committed.
    std::set<std::pair<storage::VisitorSet*, std::uint64_t>> claimed;
    for (const auto& [member, i] : order) {
      EnrichedClick& click = (*member->clicks)[i];
      storage::VisitorSet* seen = nullptr;
      std::uint64_t visitor = 0;
      if (!click.bot) {
        auto set = visits({click.link_id, floor_to(click.at, kDayUs)});
        if (!set) return propagate(set);
        seen = *set;
        visitor = storage::visitor_key(click.visitor);
      }
      const bool first =
          seen != nullptr && !seen->contains(visitor) && !claimed.contains({seen, visitor});
      auto fresh = store_click(*conn, st, click, first);
      if (!fresh) return propagate(fresh);
      if (!*fresh) continue;  // a replay: counts nowhere
      if (first) claimed.emplace(seen, visitor);
      member->stored[i] = 1;
      counts.add(click);
    }
    BatchDims dims;
    for (GroupMember* m : group) {
      if (std::find(m->stored.begin(), m->stored.end(), 0) != m->stored.end()) {
        m->dims = BatchDims::of(*m->clicks, [&](std::size_t i) { return m->stored[i] != 0; });
      }
      if (auto ok = dims.merge(m->dims); !ok) return ok;
    }
    if (auto ok = counts.flush(*conn, st); !ok) return ok;
    if (auto ok = dims.append(*conn, st); !ok) return ok;
    if (auto ok = tx->commit(); !ok) return ok;
    for (const auto& [set, visitor] : claimed) set->insert(visitor);
    return {};
  }

  // Called without `mu`. A failed checkpoint is left to the next call (or to on_commit).
  void checkpoint_if_due() {
    if (wal_pages.load(std::memory_order_relaxed) < kCheckpointAfter) return;
    std::unique_lock lock(checkpoint_mu, std::try_to_lock);
    if (!lock) return;  // another worker is at it
    (void)sqlite3_wal_checkpoint_v2(checkpointer->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                    nullptr, nullptr);
  }

  // The loaded set of (link, day), loading it first if needed.
  Result<storage::VisitorSet*> visits(const storage::FirstVisits::LinkDay& key) {
    if (storage::VisitorSet* set = first_visits.find(key)) return set;
    storage::VisitorSet loaded;
    if (auto ok = load_first_visits(*conn, st, key, loaded); !ok) return propagate(ok);
    return &(first_visits.add(key) = std::move(loaded));
  }
};

Result<std::unique_ptr<SqliteClickStore>> SqliteClickStore::open(
    std::shared_ptr<Connection> writer, std::shared_ptr<std::mutex> writer_mu,
    const std::string& path, int readers, std::chrono::milliseconds busy_timeout) {
  auto statements = [&] {
    std::lock_guard lock(*writer_mu);
    if (auto ok = writer->exec(kWriterPragmas, "configure the writer for analytics"); !ok)
      return Result<sqlite::ClickWriterStatements>(std::unexpected(std::move(ok.error())));
    return sqlite::prepare_click_writer(*writer);
  }();
  if (!statements) return propagate(statements);
  auto pool = ReaderPool::open(
      path, readers, busy_timeout, [](Connection& db) -> Result<sqlite::ClickReaderStatements> {
        if (auto ok = db.exec(kReaderPragmas, "configure analytics reader"); !ok)
          return std::unexpected(std::move(ok.error()));
        return sqlite::prepare_click_reader(db);
      });
  if (!pool) return propagate(pool);
  auto checkpointer = Connection::open(path, {.query_only = false, .busy_timeout = busy_timeout});
  if (!checkpointer) return propagate(checkpointer);
  auto w = std::unique_ptr<Writer>(
      new Writer{std::move(writer), std::move(writer_mu), std::move(*statements)});
  w->checkpointer.emplace(std::move(*checkpointer));
  {
    std::lock_guard lock(*w->mu);
    sqlite3_wal_hook(w->conn->get(), &Writer::on_commit, w.get());  // replaces autocheckpoint
  }
  return std::unique_ptr<SqliteClickStore>(new SqliteClickStore(std::move(w), std::move(*pool)));
}

SqliteClickStore::SqliteClickStore(std::unique_ptr<Writer> writer,
                                   std::unique_ptr<ReaderPool> readers)
    : writer_(std::move(writer)), readers_(std::move(readers)) {}

SqliteClickStore::~SqliteClickStore() {
  // SqliteStore keeps the connection: it goes back to SQLite's own checkpoints.
  std::lock_guard lock(*writer_->mu);
  sqlite3_wal_autocheckpoint(writer_->conn->get(), kCheckpointAfter);
}

Result<WriteResult> SqliteClickStore::write(std::vector<EnrichedClick>& clicks) {
  if (clicks.empty()) return WriteResult{};
  GroupMember me{.clicks = &clicks,
                 .dims = BatchDims::of(clicks, [](std::size_t) { return true; })};
  {
    std::unique_lock lock(writer_->group_mu);
    writer_->queued.push_back(&me);
    writer_->group_cv.wait(lock, [&] { return me.result || !writer_->leading; });
    if (!me.result) {  // lead: write every batch queued by now in one transaction
      writer_->leading = true;
      std::vector<GroupMember*> group = std::exchange(writer_->queued, {});
      lock.unlock();
      // Whatever happens, every member gets a result: none may wait forever.
      auto written = [&]() -> Result<void> {
        try {
          return writer_->write_group(group);
        } catch (const std::exception& e) {
          return fail(Errc::internal, std::string("click batch write: ") + e.what());
        }
      }();
      lock.lock();
      for (GroupMember* m : group)
        m->result = written ? Result<WriteResult>(m->finish()) : std::unexpected(written.error());
      writer_->leading = false;
      writer_->group_cv.notify_all();
    }
  }
  writer_->checkpoint_if_due();
  return std::move(*me.result);
}

Result<void> SqliteClickStore::prune(TimeUs raw_before, TimeUs minutes_before) {
  const std::string id_before = ulid_floor(raw_before);
  const auto delete_all = [&](const Statement& stmt, TimeUs before, bool with_id) -> Result<void> {
    for (;;) {
      std::lock_guard lock(*writer_->mu);  // per chunk: other writes interleave
      Connection& db = *writer_->conn;
      auto tx = Transaction::begin(db);
      if (!tx) return propagate(tx);
      Query chunk(stmt, db.get());
      chunk.bind(1, before).bind(2, kPruneChunk);
      if (with_id) chunk.bind(3, id_before);
      if (auto ok = chunk.finish(); !ok) return ok;
      const auto deleted = sqlite3_changes64(db.get());
      if (auto ok = tx->commit(); !ok) return ok;
      if (deleted < kPruneChunk) return {};
    }
  };
  if (auto ok = delete_all(writer_->st.prune_clicks, raw_before, true); !ok) return ok;
  if (auto ok = delete_all(writer_->st.prune_minutely, minutes_before, false); !ok) return ok;
  // Uniqueness needs today's visitors and yesterday's (late clicks): keep from the day of
  // minutes_before (with 48 h of minutes, two to three days).
  const TimeUs visitors_from = floor_to(minutes_before, kDayUs);
  {
    std::lock_guard lock(*writer_->mu);
    writer_->first_visits.drop_before(visitors_from);
  }
  // Periods that late clicks no longer reach (as for visitors, with a day's margin) get their
  // dimension parts folded for good, so long ranges read one blob per link and period.
  const TimeUs settled = visitors_from + kDayUs;
  if (auto ok = fold_settled(false, settled); !ok) return ok;
  return fold_settled(true, floor_to(settled, kBlockUs));
}

Result<void> SqliteClickStore::fold_settled(bool blocks, TimeUs before) {
  const sqlite::ClickWriterStatements& st = writer_->st;
  std::vector<std::pair<std::int64_t, TimeUs>> periods;
  {
    std::lock_guard lock(*writer_->mu);
    Query rows(blocks ? st.block_dims.unfolded : st.daily_dims.unfolded, writer_->conn->get());
    rows.bind(1, before).bind(2, kFoldPerPrune);
    for (;;) {
      auto row = rows.step();
      if (!row) return propagate(row);
      if (!*row) break;
      periods.emplace_back(rows.int64(0), rows.int64(1));
    }
  }
  for (const auto& [link_id, period] : periods) {
    std::lock_guard lock(*writer_->mu);  // per period: other writes interleave
    Connection& db = *writer_->conn;
    auto tx = Transaction::begin(db);
    if (!tx) return propagate(tx);
    auto folded = blocks ? fold_block(db, st, link_id, period) : fold_day(db, st, link_id, period);
    if (!folded) return folded;
    if (auto ok = tx->commit(); !ok) return ok;
  }
  return {};
}

Result<Stats> SqliteClickStore::stats(const StatsQuery& query) {
  Stats stats;
  if (query.link_ids.empty() || query.from >= query.to) return stats;
  const std::string links = json_array(query.link_ids);
  const bool minutes = query.interval == Interval::minute;
  const TimeUs from = floor_to(query.from, interval_us(query.interval));
  auto reader = readers_->acquire();
  Connection& db = reader->conn;
  const auto& st = reader->st;
  auto snapshot = Transaction::begin_read(db);  // one snapshot for every part of the answer
  if (!snapshot) return propagate(snapshot);
  const Statement& series = minutes ? st.series_minutely : st.series_hourly;
  if (auto ok = read_series(db, series, links, from, query, stats); !ok) return propagate(ok);
  if (auto ok = read_dimensions(db, st, links, query, stats); !ok) return propagate(ok);
  if (auto ok = snapshot->commit(); !ok) return propagate(ok);
  return stats;
}

Result<void> SqliteClickStore::export_clicks(std::int64_t link_id, TimeUs from, TimeUs to,
                                             const std::function<bool(const EnrichedClick&)>& row) {
  TimeUs after_at = from;
  std::string after_id;  // (from, "") sorts before every click at `from`
  std::vector<EnrichedClick> page;
  for (;;) {
    page.clear();
    {
      auto reader = readers_->acquire();
      Query rows(reader->st.export_page, reader->conn.get());
      rows.bind(1, link_id).bind(2, after_at).bind(3, after_id).bind(4, to).bind(5, kExportPage);
      for (;;) {
        auto next = rows.step();
        if (!next) return propagate(next);
        if (!*next) break;
        page.push_back(sqlite::read_click(rows));
      }
    }
    for (const EnrichedClick& click : page)
      if (!row(click)) return {};
    if (static_cast<std::int64_t>(page.size()) < kExportPage) return {};
    after_at = page.back().at;
    after_id = page.back().id;
  }
}

}  // namespace shortener
