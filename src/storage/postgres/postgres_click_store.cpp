#include "storage/postgres/postgres_click_store.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include "storage/postgres/arrays.h"
#include "storage/postgres/click_batch.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/dim_counts.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/partitions.h"
#include "storage/postgres/pool.h"
#include "storage/postgres/statements.h"

namespace shortener {

using pg::Params;
using pg::PgResult;
using pg::propagate;

namespace {

constexpr std::int64_t kDayUs = interval_us(Interval::day);
// Rows deleted per prune statement: a few ms of locks, about one click batch, so writers
// never wait behind a prune longer than behind a batch.
constexpr std::int64_t kPruneChunk = 5000;
// Raw rows per export statement: amortises the index descent; a page is ~0.5 MB in memory.
constexpr std::int64_t kExportPage = 1000;

TimeUs floor_to(TimeUs t, std::int64_t step) {
  const TimeUs aligned = t / step * step;
  return aligned > t ? aligned - step : aligned;  // negative times round toward -inf
}

// ULID prefix (10 Crockford base32 symbols) of the millisecond of `t`: every event id minted
// before that millisecond sorts below it.
std::string ulid_floor(TimeUs t) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  auto ms = static_cast<std::uint64_t>(std::max<TimeUs>(t, 0) / 1000);
  std::string prefix(10, '0');
  for (int i = 9; i >= 0; --i, ms >>= 5) prefix[static_cast<std::size_t>(i)] = kCrockford[ms & 31];
  return prefix;
}

std::string id_array(const std::vector<std::int64_t>& ids) {
  pg::ArrayLiteral array;
  for (std::int64_t id : ids) array.add(id);
  return array.take();
}

// Dimension rows a link-day may gather (from this process) before they are folded into one:
// bounds what stats() reads for a busy link to ~kCompactAfter rows a day, and costs one small
// transaction per kCompactAfter batches that touched it.
constexpr int kCompactAfter = 16;
// Link-days whose rows this process counts; past it, counts for days before yesterday go.
constexpr std::size_t kMaxTrackedDays = 200'000;
// Link-days of past days folded per prune() call (a small transaction each, ~1 ms): a day's
// rows end up as one per link-day, so long account-wide ranges read one blob per link and day.
constexpr std::size_t kFoldPerPrune = 1000;

// Where stats() puts each dimension's top values, by dim code.
constexpr std::vector<Count> Stats::*kDimOutputs[pg::kDimCount] = {
    &Stats::countries, &Stats::cities,   &Stats::referrers,
    &Stats::devices,   &Stats::browsers, &Stats::os};

// Columns in the order of CLICK_COLUMNS (statements.cpp).
EnrichedClick read_click(const PgResult& rows, int r) {
  EnrichedClick click;
  click.id = rows.text(r, 0);
  click.link_id = rows.int64(r, 1);
  click.at = rows.int64(r, 2);
  click.country = rows.text(r, 3);
  click.region = rows.text(r, 4);
  click.city = rows.text(r, 5);
  click.referrer = rows.text(r, 6);
  click.device = rows.text(r, 7);
  click.browser = rows.text(r, 8);
  click.browser_version = rows.text(r, 9);
  click.os = rows.text(r, 10);
  click.bot = rows.boolean(r, 11);
  click.bot_reason = rows.text(r, 12);
  click.visitor = rows.text(r, 13);
  click.utm_source = rows.text(r, 14);
  click.destination = rows.text(r, 15);
  click.ip_prefix = rows.text(r, 16);
  click.unique = rows.boolean(r, 17);
  return click;
}

// Steps 1-4 of the write path (postgres_click_store.h), inside the caller's transaction.
// `copy`: step 2 as a COPY, which stores every event or fails with Errc::conflict.
Result<void> store_batch(pg::Connection& db, pg::ClickBatch& batch, bool copy) {
  if (batch.has_visitors()) {
    auto claimed = db.run(pg::stmt::kInsertVisitors, batch.visitor_params());
    if (!claimed) return propagate(claimed);
    batch.claimed(*claimed);
  }
  if (copy) {
    if (auto ok = db.copy_in(pg::stmt::kCopyClicks, batch.click_copy()); !ok) return ok;
    batch.stored_all();
  } else {
    auto stored = db.run(pg::stmt::kInsertClicks, batch.click_params());
    if (!stored) return propagate(stored);
    batch.stored(*stored);
  }
  for (const auto& repair : batch.repairs())
    if (auto ok = db.run(repair.statement, repair.params); !ok) return propagate(ok);
  if (!batch.has_stored()) return {};
  for (const auto& [statement, params] :
       {std::pair{pg::stmt::kAddPendingCounts, batch.minutely_params()},
        std::pair{pg::stmt::kAddPendingDims, batch.dims_params()}}) {
    if (auto ok = db.run(statement, params); !ok) return propagate(ok);
  }
  return {};
}

// The pending shards (statements.h) that may hold increments of `link_ids`.
std::string shard_array(const std::vector<std::int64_t>& link_ids) {
  std::set<std::int64_t> shards;  // at most kPendingShards
  for (std::int64_t id : link_ids) shards.insert(id % pg::stmt::kPendingShards);
  return id_array(std::vector<std::int64_t>(shards.begin(), shards.end()));
}

// An int8 column of a result in binary format (network byte order).
std::int64_t binary_int64(const PgResult& rows, int r, int c) {
  const std::string_view bytes = rows.text(r, c);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<std::int64_t>(v);
}

// Sparse buckets plus the totals, summed from the same rows so total == Σ buckets.
Result<void> read_series(pg::Connection& db, const std::string& links, const std::string& shards,
                         TimeUs from, const StatsQuery& query, Stats& out) {
  const bool minutes = query.interval == Interval::minute;
  Params params;
  params.add(links).add(from).add(query.to).add(interval_us(query.interval)).add(shards);
  auto rows = db.run(minutes ? pg::stmt::kSeriesMinutely : pg::stmt::kSeriesHourly, params);
  if (!rows) return propagate(rows);
  for (int r = 0; r < rows->rows(); ++r) {
    const std::int64_t bots = rows->int64(r, 3);
    const std::int64_t clicks = rows->int64(r, 1) + (query.include_bots ? bots : 0);
    out.timeseries.push_back(Bucket{rows->int64(r, 0), clicks, rows->int64(r, 2)});
    out.total += clicks;
    out.unique += rows->int64(r, 2);
    out.bots += bots;
  }
  return {};
}

// Top values of every dimension over the UTC days overlapping [query.from, query.to).
Result<void> read_dimensions(pg::Connection& db, const std::string& links,
                             const std::string& shards, const StatsQuery& query, Stats& out) {
  const TimeUs first_day = floor_to(query.from, kDayUs);
  const TimeUs end_day = floor_to(query.to - 1, kDayUs) + kDayUs;  // exclusive
  Params params;
  params.add(links).add(first_day).add(end_day).add(shards);
  auto rows = db.run(pg::stmt::kDailyDims, params, /*binary_results=*/true);
  if (!rows) return propagate(rows);
  pg::DimTotals totals;
  for (int r = 0; r < rows->rows(); ++r)
    if (auto ok = totals.add(rows->text(r, 0)); !ok) return ok;
  for (int dim = 0; dim < pg::kDimCount; ++dim)
    out.*kDimOutputs[dim] = totals.top(static_cast<pg::Dim>(dim), query.top, query.include_bots);
  return {};
}

// Folds the dimension rows of one link-day into one, in a transaction of its own.
Result<void> compact_dims(pg::Connection& db, std::int64_t link_id, TimeUs day) {
  auto tx = pg::Transaction::begin(db);
  if (!tx) return propagate(tx);
  auto rows = db.run(pg::stmt::kTakeDailyDims, Params().add(link_id).add(day), true);
  if (!rows) return propagate(rows);
  if (rows->rows() <= 1) return {};  // nothing to fold: the destructor rolls back
  std::vector<std::string_view> blobs;
  for (int r = 0; r < rows->rows(); ++r) blobs.push_back(rows->text(r, 0));
  auto sum = pg::sum_dim_counts(blobs);
  if (!sum) return propagate(sum);
  auto put =
      db.run(pg::stmt::kPutDailyDims, Params().add(link_id).add(day).add(pg::bytea_hex(*sum)));
  if (!put) return propagate(put);
  return tx->commit();
}

Result<void> read_top_links(pg::Connection& db, const std::string& links, const std::string& shards,
                            TimeUs from, const StatsQuery& query, Stats& out) {
  const bool minutes = query.interval == Interval::minute;
  Params params;
  params.add(links).add(from).add(query.to).add(std::int64_t{query.include_bots});
  params.add(static_cast<std::int64_t>(query.top)).add(shards);
  auto rows = db.run(minutes ? pg::stmt::kTopLinksMinutely : pg::stmt::kTopLinksHourly, params);
  if (!rows) return propagate(rows);
  for (int r = 0; r < rows->rows(); ++r)
    out.top_links.emplace_back(rows->int64(r, 0), rows->int64(r, 1));
  return {};
}

}  // namespace

Result<std::unique_ptr<PostgresClickStore>> PostgresClickStore::open(
    const std::string& url, const PostgresOptions& options) {
  if (!pg::is_postgres_url(url)) return fail(Errc::invalid_input, "not a postgres:// URL");
  auto pool = pg::Pool::open(url,
                             pg::ConnectOptions{.connect_timeout = options.connect_timeout,
                                                .statement_timeout = options.statement_timeout},
                             options.pool_size, [](pg::Connection& db) -> Result<void> {
                               if (auto ok = pg::check_schema(db); !ok) return ok;
                               return pg::stmt::prepare_click_statements(db);
                             });
  if (!pool) return propagate(pool);
  auto store = std::unique_ptr<PostgresClickStore>(new PostgresClickStore(std::move(*pool)));
  {
    // The partitions that exist already need no CREATE ... IF NOT EXISTS from the first batches.
    auto db = store->pool_->acquire();
    if (!db) return propagate(db);
    auto months = pg::click_partitions(**db);
    if (!months) return propagate(months);
    for (const pg::Month& month : *months) store->partitions_.insert(month.from);
  }
  return store;
}

PostgresClickStore::PostgresClickStore(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

PostgresClickStore::~PostgresClickStore() = default;

Result<void> PostgresClickStore::ensure_partitions(pg::Connection& db,
                                                   const std::vector<pg::Month>& months) {
  for (const pg::Month& month : months) {
    {
      std::lock_guard lock(partitions_mu_);
      if (partitions_.contains(month.from)) continue;
    }
    if (auto ok = pg::create_click_partition(db, month); !ok) return ok;
    std::lock_guard lock(partitions_mu_);
    partitions_.insert(month.from);
  }
  return {};
}

Result<WriteResult> PostgresClickStore::write(std::vector<EnrichedClick>& clicks) {
  if (clicks.empty()) return WriteResult{};
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  std::optional<pg::ClickBatch> batch;
  auto attempt = [&](bool copy) -> Result<void> {
    batch.emplace(clicks);
    {
      std::lock_guard lock(claims_mu_);
      batch->skip_claimed(claims_);
    }
    if (auto ok = ensure_partitions(**db, batch->months()); !ok) return ok;
    auto tx = pg::Transaction::begin(**db);
    if (!tx) return propagate(tx);
    if (auto ok = store_batch(**db, *batch, copy); !ok) return ok;
    return tx->commit();
  };
  // First as a COPY: new events are the rule. A replay (some events stored before) fails it
  // with a unique violation; then the batch goes again as INSERT ... ON CONFLICT DO NOTHING,
  // which stores only what is new.
  auto stored = attempt(/*copy=*/true);
  if (!stored && stored.error().code == Errc::conflict) {
    copy_conflicts_.fetch_add(1, std::memory_order_relaxed);
    stored = attempt(/*copy=*/false);
  }
  if (!stored) {
    // Perhaps another process dropped a partition this one had seen: check again next time.
    std::lock_guard lock(partitions_mu_);
    partitions_.clear();
    return propagate(stored);
  }
  remember_claims(batch->committed_claims());
  // Folding only tidies: the batch is committed whatever happens to the fold. A fold that left
  // rows behind (a backlog) makes the next write fold again at once.
  if (fold_due()) {
    auto folded = fold(**db);
    if (folded && *folded == Fold::more) next_fold_ns_.store(0, std::memory_order_relaxed);
  }
  return batch->finish();
}

void PostgresClickStore::remember_claims(
    const std::vector<std::tuple<std::int64_t, TimeUs, std::uint64_t>>& claims) {
  std::lock_guard lock(claims_mu_);
  for (const auto& [link, day, visitor] : claims) {
    if (claims_.add({link, day}).insert(visitor)) ++claims_size_;
  }
  // Bounded: past kMaxKnownClaims, start over (the server still knows every claim).
  if (claims_size_ > kMaxKnownClaims) {
    claims_ = storage::FirstVisits();
    claims_size_ = 0;
  }
}

bool PostgresClickStore::fold_due() {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t next = next_fold_ns_.load(std::memory_order_relaxed);
  if (now < next) return false;
  // One thread of this process claims the fold; the others go on writing.
  return next_fold_ns_.compare_exchange_strong(
      next, now + std::chrono::duration_cast<std::chrono::nanoseconds>(kFoldInterval).count());
}

Result<bool> PostgresClickStore::fold_pending() {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  // A backlog (folds failed for a while) goes in kFoldRows steps, each its own transaction.
  for (int step = 0;; ++step) {
    auto folded = fold(**db);
    if (!folded) return propagate(folded);
    if (*folded != Fold::more || step == kMaxFoldSteps) return *folded != Fold::skipped;
  }
}

PostgresClickCounters PostgresClickStore::counters() const {
  return {.folds = folds_.load(),
          .fold_skips = fold_skips_.load(),
          .fold_failures = fold_failures_.load(),
          .fold_seconds = static_cast<double>(fold_ns_.load()) / 1e9,
          .copy_conflicts = copy_conflicts_.load()};
}

Result<PostgresClickStore::Fold> PostgresClickStore::fold(pg::Connection& db) {
  const auto started = std::chrono::steady_clock::now();
  auto folded = fold_once(db);
  if (!folded) {
    fold_failures_.fetch_add(1, std::memory_order_relaxed);
  } else if (*folded == Fold::skipped) {
    fold_skips_.fetch_add(1, std::memory_order_relaxed);
  } else {
    folds_.fetch_add(1, std::memory_order_relaxed);
    fold_ns_.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now() - started)
                                       .count()),
        std::memory_order_relaxed);
  }
  return folded;
}

Result<PostgresClickStore::Fold> PostgresClickStore::fold_once(pg::Connection& db) {
  std::vector<std::pair<std::int64_t, TimeUs>> appended;  // (link, day), sorted
  std::int64_t taken = 0;                                 // pending rows, both tables
  {
    auto tx = pg::Transaction::begin(db);
    if (!tx) return propagate(tx);
    auto locked = db.run(pg::stmt::kLockFold, Params());
    if (!locked) return propagate(locked);
    if (!locked->boolean(0, 0)) return Fold::skipped;  // another process is folding; rolled back
    auto counts = db.run(pg::stmt::kFoldCounts, Params().add(kFoldRows));
    if (!counts) return propagate(counts);
    taken = std::max(taken, counts->int64(0, 0));
    auto dims =
        db.run(pg::stmt::kTakePendingDims, Params().add(kFoldRows), /*binary_results=*/true);
    if (!dims) return propagate(dims);
    if (dims->rows() > 0) taken = std::max(taken, binary_int64(*dims, 0, 3));
    pg::ArrayLiteral links, days, blobs;
    std::vector<std::string_view> run;  // the blobs of one (link, day): rows come sorted
    for (int r = 0; r < dims->rows(); ++r) {
      const std::pair key{binary_int64(*dims, r, 0), binary_int64(*dims, r, 1)};
      run.push_back(dims->text(r, 2));
      if (r + 1 < dims->rows() &&
          key == std::pair{binary_int64(*dims, r + 1, 0), binary_int64(*dims, r + 1, 1)})
        continue;
      auto sum =
          run.size() == 1 ? Result<std::string>(std::string(run[0])) : pg::sum_dim_counts(run);
      if (!sum) return propagate(sum);
      links.add(key.first);
      days.add(key.second);
      blobs.add_bytea(*sum);
      appended.push_back(key);
      run.clear();
    }
    if (!appended.empty()) {
      Params params;
      params.add(links.take()).add(days.take()).add(blobs.take());
      if (auto ok = db.run(pg::stmt::kAddDailyDims, params); !ok) return propagate(ok);
    }
    if (auto ok = tx->commit(); !ok) return propagate(ok);
  }
  // Compaction only tidies: the fold is committed whatever happens to it.
  for (const auto& [link_id, day] : crowded_days(appended)) (void)compact_dims(db, link_id, day);
  return taken >= kFoldRows ? Fold::more : Fold::done;
}

std::vector<std::pair<std::int64_t, TimeUs>> PostgresClickStore::crowded_days(
    const std::vector<std::pair<std::int64_t, TimeUs>>& appended) {
  std::vector<std::pair<std::int64_t, TimeUs>> crowded;
  std::lock_guard lock(dim_rows_mu_);
  for (const auto& key : appended) {
    if (++dim_rows_[key] < kCompactAfter) continue;
    dim_rows_.erase(key);
    crowded.push_back(key);
  }
  if (dim_rows_.size() > kMaxTrackedDays && !appended.empty()) {
    const TimeUs keep_from = appended.back().second - kDayUs;
    std::erase_if(dim_rows_, [&](const auto& entry) { return entry.first.second < keep_from; });
    if (dim_rows_.size() > kMaxTrackedDays) dim_rows_.clear();
  }
  return crowded;
}

std::vector<std::pair<std::int64_t, TimeUs>> PostgresClickStore::settled_days(TimeUs before,
                                                                              std::size_t limit) {
  std::vector<std::pair<std::int64_t, TimeUs>> settled;
  std::lock_guard lock(dim_rows_mu_);
  for (auto it = dim_rows_.begin(); it != dim_rows_.end() && settled.size() < limit;) {
    if (it->first.second >= before) {
      ++it;
      continue;
    }
    settled.push_back(it->first);
    it = dim_rows_.erase(it);
  }
  return settled;
}

Result<void> PostgresClickStore::delete_in_chunks(const char* statement, TimeUs before,
                                                  const std::string* id_before) {
  for (;;) {
    auto db = pool_->acquire();  // per chunk: a small pool keeps serving writes meanwhile
    if (!db) return propagate(db);
    Params params;
    params.add(before).add(kPruneChunk);
    if (id_before != nullptr) params.add(*id_before);
    auto done = (*db)->run(statement, params);
    if (!done) return propagate(done);
    if (done->affected() < kPruneChunk) return {};
  }
}

Result<void> PostgresClickStore::prune(TimeUs raw_before, TimeUs minutes_before) {
  // Pending increments first, so a quiet system does not keep them pending, and old minutes
  // they hold are pruned below.
  if (auto folded = fold_pending(); !folded) return propagate(folded);
  {
    auto db = pool_->acquire();
    if (!db) return propagate(db);
    auto months = pg::click_partitions(**db);
    if (!months) return propagate(months);
    for (const pg::Month& month : *months) {
      if (month.to > raw_before) break;  // oldest first: the rest are newer
      if (auto ok = pg::drop_click_partition(**db, month); !ok) return ok;
      std::lock_guard lock(partitions_mu_);
      partitions_.erase(month.from);
    }
  }
  const std::string id_before = ulid_floor(raw_before);
  if (auto ok = delete_in_chunks(pg::stmt::kPruneClicks, raw_before, &id_before); !ok) return ok;
  if (auto ok = delete_in_chunks(pg::stmt::kPruneMinutely, minutes_before, nullptr); !ok) return ok;
  // Uniqueness needs today's visitors and yesterday's (late clicks): keep from the day of
  // minutes_before (with 48 h of minutes, two to three days).
  const TimeUs visitors_from = floor_to(minutes_before, kDayUs);
  if (auto ok = delete_in_chunks(pg::stmt::kPruneVisitors, visitors_from, nullptr); !ok) return ok;
  // Days that late clicks no longer reach (as for visitors, with a day's margin) get their
  // dimension rows folded for good.
  for (const auto& [link_id, day] : settled_days(visitors_from + kDayUs, kFoldPerPrune)) {
    auto db = pool_->acquire();
    if (!db) return propagate(db);
    if (auto ok = compact_dims(**db, link_id, day); !ok) return ok;
  }
  return {};
}

Result<Stats> PostgresClickStore::stats(const StatsQuery& query) {
  Stats stats;
  if (query.link_ids.empty() || query.from >= query.to) return stats;
  const std::string links = id_array(query.link_ids);
  const std::string shards = shard_array(query.link_ids);
  const TimeUs from = floor_to(query.from, interval_us(query.interval));
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  // One snapshot for every part of the answer.
  auto snapshot = pg::Transaction::begin(**db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  if (!snapshot) return propagate(snapshot);
  if (auto ok = read_series(**db, links, shards, from, query, stats); !ok) return propagate(ok);
  if (auto ok = read_dimensions(**db, links, shards, query, stats); !ok) return propagate(ok);
  if (query.link_ids.size() > 1) {
    if (auto ok = read_top_links(**db, links, shards, from, query, stats); !ok)
      return propagate(ok);
  }
  if (auto ok = snapshot->commit(); !ok) return propagate(ok);
  return stats;
}

Result<void> PostgresClickStore::export_clicks(
    std::int64_t link_id, TimeUs from, TimeUs to,
    const std::function<bool(const EnrichedClick&)>& row) {
  TimeUs after_at = from;
  std::string after_id;  // (from, "") sorts before every click at `from`
  std::vector<EnrichedClick> page;
  for (;;) {
    page.clear();
    {
      auto db = pool_->acquire();  // released before `row` runs: a slow consumer blocks nothing
      if (!db) return propagate(db);
      Params params;
      params.add(link_id).add(after_at).add(after_id).add(to).add(kExportPage);
      auto rows = (*db)->run(pg::stmt::kExportPage, params);
      if (!rows) return propagate(rows);
      for (int r = 0; r < rows->rows(); ++r) page.push_back(read_click(*rows, r));
    }
    for (const EnrichedClick& click : page)
      if (!row(click)) return {};
    if (static_cast<std::int64_t>(page.size()) < kExportPage) return {};
    after_at = page.back().at;
    after_id = page.back().id;
  }
}

}  // namespace shortener
