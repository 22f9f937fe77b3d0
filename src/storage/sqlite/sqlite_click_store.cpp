#include "storage/sqlite/sqlite_click_store.h"

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "storage/sqlite/connection.h"
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
// Rows deleted per prune transaction: a few ms of write lock, about one click batch, so a link
// write never waits behind a prune longer than behind a batch.
constexpr std::int64_t kPruneChunk = 5000;
// Raw rows per export statement: amortises the index seek; a page is ~0.5 MB in memory.
constexpr std::int64_t kExportPage = 1000;
// A 90-day stats query scans ~200k dimension rows (~6 MB): a 32 MB page cache per analytics
// reader (negative = KiB) keeps hot links' rollups in memory instead of re-reading them.
constexpr std::string_view kReaderPragmas = "PRAGMA cache_size = -32768";

template <class T>
std::unexpected<Error> propagate(Result<T>& failed) {
  return std::unexpected(std::move(failed.error()));
}

TimeUs floor_to(TimeUs t, std::int64_t step) {
  const TimeUs aligned = t / step * step;
  return aligned > t ? aligned - step : aligned;  // negative times round toward -inf
}

// The dimensions: their `dim` key in rollup_daily_dims and where stats() puts their top values.
enum Dim : std::size_t { kCountry, kCity, kReferrer, kDevice, kBrowser, kOs, kDimCount };
constexpr std::array<std::string_view, kDimCount> kDimNames = {"country", "city",    "referrer",
                                                               "device",  "browser", "os"};
constexpr std::array<std::vector<Count> Stats::*, kDimCount> kDimOutputs = {
    &Stats::countries, &Stats::cities,   &Stats::referrers,
    &Stats::devices,   &Stats::browsers, &Stats::os};

// The value a click counts under in dimension `dim`. Cities are "City, CC": a name alone is
// ambiguous across countries (Paris FR, Paris US). Missing values count as "unknown".
std::string dim_value(const EnrichedClick& click, Dim dim) {
  const std::string* field = nullptr;
  switch (dim) {
    case kCountry:
      field = &click.country;
      break;
    case kCity:
      field = &click.city;
      break;
    case kReferrer:
      field = &click.referrer;
      break;
    case kDevice:
      field = &click.device;
      break;
    case kBrowser:
      field = &click.browser;
      break;
    default:
      field = &click.os;
      break;
  }
  if (field->empty()) return "unknown";
  if (dim != kCity || *field == "unknown" || click.country.empty() || click.country == "unknown")
    return *field;
  return *field + ", " + click.country;
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

struct DimKey {
  std::int64_t link_id;
  std::size_t dim;
  TimeUs day;
  std::string value;
  bool operator==(const DimKey&) const = default;
};

struct DimKeyHash {
  std::size_t operator()(const DimKey& key) const {
    std::size_t h = std::hash<std::string>()(key.value);
    for (std::int64_t part : {key.link_id, static_cast<std::int64_t>(key.dim), key.day})
      h = h * 1'000'003 ^ std::hash<std::int64_t>()(part);
    return h;
  }
};

// The rollup increments of one batch: a batch of 1,000 clicks touches a few hundred rollup
// rows, each upserted once with its sum instead of once per click.
class BatchRollup {
 public:
  void add(const EnrichedClick& click) {
    hours_[{click.link_id, floor_to(click.at, kHourUs)}].add(click);
    minutes_[{click.link_id, floor_to(click.at, kMinuteUs)}].add(click);
    const TimeUs day = floor_to(click.at, kDayUs);
    for (std::size_t dim = 0; dim < kDimCount; ++dim)
      dims_[DimKey{click.link_id, dim, day, dim_value(click, static_cast<Dim>(dim))}].add(click);
  }

  Result<void> flush(Connection& db, const sqlite::ClickWriterStatements& st) const {
    for (const auto& [key, counts] : hours_)
      if (auto ok = add_counts(db, st.add_hourly, key, counts); !ok) return ok;
    for (const auto& [key, counts] : minutes_)
      if (auto ok = add_counts(db, st.add_minutely, key, counts); !ok) return ok;
    for (const auto& [key, counts] : dims_) {
      Query add(st.add_daily_dim, db.get());
      add.bind(1, key.link_id).bind(2, kDimNames[key.dim]).bind(3, key.day).bind(4, key.value);
      add.bind(5, counts.clicks).bind(6, counts.bots);
      if (auto ok = add.finish(); !ok) return ok;
    }
    return {};
  }

 private:
  using BucketKey = std::pair<std::int64_t, TimeUs>;  // link, bucket start

  static Result<void> add_counts(Connection& db, const Statement& stmt, const BucketKey& key,
                                 const Counts& counts) {
    Query add(stmt, db.get());
    add.bind(1, key.first).bind(2, key.second).bind(3, counts.clicks);
    add.bind(4, counts.uniques).bind(5, counts.bots);
    return add.finish();
  }

  std::map<BucketKey, Counts> hours_;  // ordered: upserts walk the key in order
  std::map<BucketKey, Counts> minutes_;
  std::unordered_map<DimKey, Counts, DimKeyHash> dims_;
};

// Stores one click unless its id is stored already (then returns false and changes nothing).
// The visitor row goes first, since the raw row records whether the click was `unique`.
Result<bool> store_click(Connection& db, const sqlite::ClickWriterStatements& st,
                         EnrichedClick& click) {
  const TimeUs day = floor_to(click.at, kDayUs);
  bool first_today = false;
  if (!click.bot) {
    Query visit(st.insert_visitor, db.get());
    visit.bind(1, day).bind(2, click.link_id).bind(3, click.visitor);
    if (auto ok = visit.finish(); !ok) return std::unexpected(std::move(ok.error()));
    first_today = sqlite3_changes(db.get()) > 0;
  }
  {
    Query insert(st.insert_click, db.get());
    insert.bind(1, click.id).bind(2, click.link_id).bind(3, click.at).bind(4, click.country);
    insert.bind(5, click.region).bind(6, click.city).bind(7, click.referrer);
    insert.bind(8, click.device).bind(9, click.browser).bind(10, click.browser_version);
    insert.bind(11, click.os).bind(12, std::int64_t{click.bot}).bind(13, click.bot_reason);
    insert.bind(14, click.visitor).bind(15, click.utm_source).bind(16, click.destination);
    insert.bind(17, click.ip_prefix).bind(18, std::int64_t{first_today});
    if (auto ok = insert.finish(); !ok) return std::unexpected(std::move(ok.error()));
  }
  if (sqlite3_changes(db.get()) > 0) {
    click.unique = first_today;
    return true;
  }
  // A replay whose visitor row was pruned meanwhile (a days-old event): leave no trace.
  if (first_today) {
    Query undo(st.delete_visitor, db.get());
    undo.bind(1, day).bind(2, click.link_id).bind(3, click.visitor);
    if (auto ok = undo.finish(); !ok) return std::unexpected(std::move(ok.error()));
  }
  return false;
}

// Indices of `clicks` by time (stable): the first click of a visitor's day gets the `unique`
// even when a batch arrives out of order.
std::vector<std::size_t> oldest_first(const std::vector<EnrichedClick>& clicks) {
  std::vector<std::size_t> order(clicks.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return clicks[a].at < clicks[b].at; });
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

// Sparse buckets plus the totals, summed from the same rows so total == Σ buckets.
Result<void> read_series(Connection& db, const Statement& stmt, std::string_view links, TimeUs from,
                         const StatsQuery& query, Stats& out) {
  Query rows(stmt, db.get());
  rows.bind(1, links).bind(2, from).bind(3, query.to).bind(4, interval_us(query.interval));
  for (;;) {
    auto row = rows.step();
    if (!row) return propagate(row);
    if (!*row) return {};
    const std::int64_t bots = rows.int64(3);
    const std::int64_t clicks = rows.int64(1) + (query.include_bots ? bots : 0);
    out.timeseries.push_back(Bucket{rows.int64(0), clicks, rows.int64(2)});
    out.total += clicks;
    out.unique += rows.int64(2);
    out.bots += bots;
  }
}

Result<void> read_top_values(Connection& db, const Statement& stmt, std::string_view links, Dim dim,
                             const StatsQuery& query, std::vector<Count>& out) {
  Query rows(stmt, db.get());
  rows.bind(1, links).bind(2, kDimNames[dim]).bind(3, floor_to(query.from, kDayUs));
  rows.bind(4, query.to).bind(5, std::int64_t{query.include_bots});
  rows.bind(6, static_cast<std::int64_t>(query.top));
  for (;;) {
    auto row = rows.step();
    if (!row) return propagate(row);
    if (!*row) return {};
    out.push_back(Count{rows.text(0), rows.int64(1)});
  }
}

Result<void> read_top_links(Connection& db, const Statement& stmt, std::string_view links,
                            TimeUs from, const StatsQuery& query, Stats& out) {
  Query rows(stmt, db.get());
  rows.bind(1, links).bind(2, from).bind(3, query.to);
  rows.bind(4, std::int64_t{query.include_bots}).bind(5, static_cast<std::int64_t>(query.top));
  for (;;) {
    auto row = rows.step();
    if (!row) return propagate(row);
    if (!*row) return {};
    out.top_links.emplace_back(rows.int64(0), rows.int64(1));
  }
}

}  // namespace

struct SqliteClickStore::Writer {
  std::shared_ptr<Connection> conn;  // SqliteStore's writer connection
  std::shared_ptr<std::mutex> mu;    // and its mutex: held per write() or prune chunk
  sqlite::ClickWriterStatements st;  // declared last: finalized before `conn` may close
};

Result<std::unique_ptr<SqliteClickStore>> SqliteClickStore::open(
    std::shared_ptr<Connection> writer, std::shared_ptr<std::mutex> writer_mu,
    const std::string& path, int readers, std::chrono::milliseconds busy_timeout) {
  auto statements = [&] {
    std::lock_guard lock(*writer_mu);
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
  auto w = std::unique_ptr<Writer>(
      new Writer{std::move(writer), std::move(writer_mu), std::move(*statements)});
  return std::unique_ptr<SqliteClickStore>(new SqliteClickStore(std::move(w), std::move(*pool)));
}

SqliteClickStore::SqliteClickStore(std::unique_ptr<Writer> writer,
                                   std::unique_ptr<ReaderPool> readers)
    : writer_(std::move(writer)), readers_(std::move(readers)) {}

SqliteClickStore::~SqliteClickStore() = default;

Result<WriteResult> SqliteClickStore::write(std::vector<EnrichedClick>& clicks) {
  if (clicks.empty()) return WriteResult{};
  const std::vector<std::size_t> order = oldest_first(clicks);
  std::vector<char> stored(clicks.size(), 0);
  BatchRollup rollup;
  {
    std::lock_guard lock(*writer_->mu);
    Connection& db = *writer_->conn;
    auto tx = Transaction::begin(db);
    if (!tx) return propagate(tx);
    for (std::size_t i : order) {
      auto fresh = store_click(db, writer_->st, clicks[i]);
      if (!fresh) return propagate(fresh);
      if (!*fresh) continue;
      stored[i] = 1;
      rollup.add(clicks[i]);
    }
    if (auto ok = rollup.flush(db, writer_->st); !ok) return propagate(ok);
    if (auto ok = tx->commit(); !ok) return propagate(ok);
  }
  // Keep only what was stored now, in the caller's order: that is what gets published.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    if (stored[i] && kept != i) clicks[kept] = std::move(clicks[i]);
    kept += stored[i] ? 1 : 0;
  }
  const WriteResult result{.inserted = kept, .duplicates = clicks.size() - kept};
  clicks.resize(kept);
  return result;
}

Result<void> SqliteClickStore::prune(TimeUs raw_before, TimeUs minutes_before) {
  const std::array<std::pair<const Statement*, TimeUs>, 3> jobs = {{
      {&writer_->st.prune_clicks, raw_before},
      {&writer_->st.prune_minutely, minutes_before},
      {&writer_->st.prune_visitors, floor_to(minutes_before, kDayUs)},
  }};
  for (const auto& [stmt, before] : jobs) {
    for (;;) {
      std::lock_guard lock(*writer_->mu);  // per chunk: other writes interleave
      Connection& db = *writer_->conn;
      auto tx = Transaction::begin(db);
      if (!tx) return propagate(tx);
      Query chunk(*stmt, db.get());
      chunk.bind(1, before).bind(2, kPruneChunk);
      if (auto ok = chunk.finish(); !ok) return ok;
      const auto deleted = sqlite3_changes64(db.get());
      if (auto ok = tx->commit(); !ok) return ok;
      if (deleted < kPruneChunk) break;
    }
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
  for (std::size_t dim = 0; dim < kDimCount; ++dim) {
    auto ok = read_top_values(db, st.top_values, links, static_cast<Dim>(dim), query,
                              stats.*kDimOutputs[dim]);
    if (!ok) return propagate(ok);
  }
  if (query.link_ids.size() > 1) {
    const Statement& top = minutes ? st.top_links_minutely : st.top_links_hourly;
    if (auto ok = read_top_links(db, top, links, from, query, stats); !ok) return propagate(ok);
  }
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
        page.push_back(read_click(rows));
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
