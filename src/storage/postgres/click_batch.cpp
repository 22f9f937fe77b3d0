#include "storage/postgres/click_batch.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "storage/postgres/arrays.h"
#include "storage/postgres/statements.h"

namespace shortener::pg {
namespace {

constexpr std::int64_t kMinuteUs = interval_us(Interval::minute);
constexpr std::int64_t kDayUs = interval_us(Interval::day);

TimeUs floor_to(TimeUs t, std::int64_t step) {
  const TimeUs aligned = t / step * step;
  return aligned > t ? aligned - step : aligned;  // negative times round toward -inf
}

using VisitorKey = std::tuple<std::int64_t, std::int64_t, std::string_view>;  // day, link, who

VisitorKey key_of(const EnrichedClick& click) {
  return {floor_to(click.at, kDayUs), click.link_id, click.visitor};
}

struct Counts {
  std::int64_t clicks = 0;  // humans only
  std::int64_t uniques = 0;
  std::int64_t bots = 0;
};

}  // namespace

ClickBatch::ClickBatch(std::vector<EnrichedClick>& clicks)
    : clicks_(clicks), stored_(clicks.size(), 0) {
  for (EnrichedClick& click : clicks) click.unique = false;  // set from the server's answers
  // Oldest first (stable): the first click of a visitor's day gets the `unique` even when a
  // batch arrives out of order, and of two copies of one event the first one counts.
  std::vector<std::size_t> order(clicks.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return clicks[a].at < clicks[b].at; });
  std::unordered_set<std::string_view> ids;
  std::set<VisitorKey> keys;
  for (std::size_t i : order) {
    if (!ids.insert(clicks[i].id).second) continue;
    pending_.push_back(i);
    if (!clicks[i].bot && keys.insert(key_of(clicks[i])).second) candidates_.push_back(i);
  }
  std::sort(candidates_.begin(), candidates_.end(),
            [&](std::size_t a, std::size_t b) { return key_of(clicks[a]) < key_of(clicks[b]); });
}

void ClickBatch::skip_claimed(const storage::FirstVisits& known) {
  std::erase_if(candidates_, [&](std::size_t i) {
    const auto [day, link, visitor] = key_of(clicks_[i]);
    const storage::VisitorSet* set = known.find({link, day});
    return set != nullptr && set->contains(storage::visitor_key(visitor));
  });
}

std::vector<std::tuple<std::int64_t, TimeUs, std::uint64_t>> ClickBatch::committed_claims() const {
  std::vector<std::tuple<std::int64_t, TimeUs, std::uint64_t>> out;
  out.reserve(candidates_.size());
  for (std::size_t i : candidates_) {
    if (std::find(released_.begin(), released_.end(), i) != released_.end()) continue;
    const auto [day, link, visitor] = key_of(clicks_[i]);
    out.emplace_back(link, day, storage::visitor_key(visitor));
  }
  return out;
}

std::vector<Month> ClickBatch::months() const {
  std::vector<Month> months;
  for (std::size_t i : pending_) {
    const Month m = month_of(clicks_[i].at);
    if (std::none_of(months.begin(), months.end(),
                     [&](const Month& k) { return k.from == m.from; }))
      months.push_back(m);
  }
  return months;
}

Params ClickBatch::visitor_params() const {
  ArrayLiteral days, links, visitors;
  for (std::size_t i : candidates_) {
    const auto [day, link, visitor] = key_of(clicks_[i]);
    days.add(day);
    links.add(link);
    visitors.add(visitor);
  }
  Params params;
  params.add(days.take()).add(links.take()).add(visitors.take());
  return params;
}

void ClickBatch::claimed(const PgResult& rows) {
  // The server hands back the text it stored: the visitor after valid_utf8().
  std::map<std::tuple<std::int64_t, std::int64_t, std::string>, std::size_t> by_key;
  for (std::size_t i : candidates_) {
    const EnrichedClick& c = clicks_[i];
    by_key.emplace(std::tuple{floor_to(c.at, kDayUs), c.link_id, valid_utf8(c.visitor)}, i);
  }
  for (int r = 0; r < rows.rows(); ++r) {
    auto it =
        by_key.find(std::tuple{rows.int64(r, 0), rows.int64(r, 1), std::string(rows.text(r, 2))});
    if (it != by_key.end()) clicks_[it->second].unique = true;
  }
}

namespace {

// The 18 columns of a raw click, in the order of CLICK_COLUMNS (statements.cpp), handed to
// `column` as std::string_view, std::int64_t or bool: the INSERT arrays and the COPY rows.
template <typename Column>
void each_column(const EnrichedClick& c, Column&& column) {
  column(std::string_view(c.id));
  column(c.link_id);
  column(c.at);
  for (const std::string* text : {&c.country, &c.region, &c.city, &c.referrer, &c.device,
                                  &c.browser, &c.browser_version, &c.os})
    column(std::string_view(*text));
  column(c.bot);
  for (const std::string* text :
       {&c.bot_reason, &c.visitor, &c.utm_source, &c.destination, &c.ip_prefix})
    column(std::string_view(*text));
  column(c.unique);
}
constexpr int kClickColumns = 18;

}  // namespace

std::vector<std::size_t> ClickBatch::pending_by_id() const {
  std::vector<std::size_t> by_id = pending_;
  std::sort(by_id.begin(), by_id.end(),
            [&](std::size_t a, std::size_t b) { return clicks_[a].id < clicks_[b].id; });
  return by_id;
}

Params ClickBatch::click_params() const {
  ArrayLiteral columns[kClickColumns];
  for (std::size_t i : pending_by_id()) {
    int k = 0;
    each_column(clicks_[i], [&](auto value) { columns[k++].add(value); });
  }
  Params params;
  for (ArrayLiteral& column : columns) params.add(column.take());
  return params;
}

namespace {

// COPY binary format: big-endian integers; a field is its length (int32) and its bytes.
void put_u16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put_int8(std::string& out, std::int64_t value) {
  put_u32(out, 8);
  const auto v = static_cast<std::uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put_bool(std::string& out, bool value) {
  put_u32(out, 1);
  out += value ? '\1' : '\0';
}

void put_text(std::string& out, std::string_view value) {
  const std::size_t at = out.size();
  put_u32(out, 0);
  append_valid_utf8(out, value);
  const auto n = static_cast<std::uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
}

}  // namespace

std::string ClickBatch::click_copy() const {
  const std::vector<std::size_t> by_id = pending_by_id();
  static constexpr std::string_view kSignature{"PGCOPY\n\xff\r\n\0", 11};
  std::string out;
  out.reserve(64 + by_id.size() * 320);
  out += kSignature;
  put_u32(out, 0);  // flags
  put_u32(out, 0);  // header extension length
  for (std::size_t i : by_id) {
    put_u16(out, kClickColumns);
    each_column(clicks_[i], [&](auto value) {
      using T = decltype(value);
      if constexpr (std::is_same_v<T, std::string_view>) {
        put_text(out, value);
      } else if constexpr (std::is_same_v<T, bool>) {
        put_bool(out, value);
      } else {
        put_int8(out, value);
      }
    });
  }
  put_u16(out, 0xffff);  // trailer: -1
  return out;
}

void ClickBatch::stored_all() {
  for (std::size_t i : pending_) stored_[i] = 1;
}

void ClickBatch::stored(const PgResult& rows) {
  std::unordered_map<std::string, std::size_t> by_id;
  for (std::size_t i : pending_) by_id.emplace(valid_utf8(clicks_[i].id), i);
  for (int r = 0; r < rows.rows(); ++r) {
    auto it = by_id.find(std::string(rows.text(r, 0)));
    if (it != by_id.end()) stored_[it->second] = 1;
  }
}

std::vector<ClickBatch::Repair> ClickBatch::repairs() {
  std::vector<Repair> out;
  for (std::size_t c : candidates_) {
    if (!clicks_[c].unique || stored_[c]) continue;
    clicks_[c].unique = false;
    const VisitorKey key = key_of(clicks_[c]);
    auto next = std::find_if(pending_.begin(), pending_.end(), [&](std::size_t i) {
      return stored_[i] && !clicks_[i].bot && key_of(clicks_[i]) == key &&
             clicks_[i].at >= clicks_[c].at;
    });
    Params params;
    if (next != pending_.end()) {
      clicks_[*next].unique = true;
      params.add(valid_utf8(clicks_[*next].id)).add(clicks_[*next].at);
      out.push_back(Repair{stmt::kMarkFirstOfDay, std::move(params)});
    } else {
      params.add(std::get<0>(key)).add(std::get<1>(key)).add(valid_utf8(std::get<2>(key)));
      out.push_back(Repair{stmt::kDeleteVisitor, std::move(params)});
      released_.push_back(c);
    }
  }
  return out;
}

bool ClickBatch::has_stored() const {
  return std::any_of(stored_.begin(), stored_.end(), [](char s) { return s != 0; });
}

Params ClickBatch::minutely_params() const {
  std::map<std::pair<std::int64_t, TimeUs>, Counts> rows;  // (link, bucket) in key order
  for (std::size_t i : pending_) {
    if (!stored_[i]) continue;
    const EnrichedClick& c = clicks_[i];
    Counts& counts = rows[{c.link_id, floor_to(c.at, kMinuteUs)}];
    (c.bot ? counts.bots : counts.clicks) += 1;
    counts.uniques += c.unique ? 1 : 0;
  }
  ArrayLiteral links, buckets, clicks, uniques, bots;
  for (const auto& [key, counts] : rows) {
    links.add(key.first);
    buckets.add(key.second);
    clicks.add(counts.clicks);
    uniques.add(counts.uniques);
    bots.add(counts.bots);
  }
  Params params;
  params.add(links.take()).add(buckets.take()).add(clicks.take());
  params.add(uniques.take()).add(bots.take());
  return params;
}

std::map<std::pair<std::int64_t, TimeUs>, DimCountsBuilder> ClickBatch::dim_counts() const {
  std::map<std::pair<std::int64_t, TimeUs>, DimCountsBuilder> days;
  for (std::size_t i : pending_)
    if (stored_[i])
      add_click(days[{clicks_[i].link_id, floor_to(clicks_[i].at, kDayUs)}], clicks_[i]);
  return days;
}

Params ClickBatch::dims_params() const {
  ArrayLiteral links, days, blobs;
  for (const auto& [key, counts] : dim_counts()) {
    links.add(key.first);
    days.add(key.second);
    blobs.add_bytea(counts.encode());
  }
  Params params;
  params.add(links.take()).add(days.take()).add(blobs.take());
  return params;
}

WriteResult ClickBatch::finish() {
  // Keep only what was stored now, in the caller's order: that is what gets published.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < clicks_.size(); ++i) {
    if (stored_[i] && kept != i) clicks_[kept] = std::move(clicks_[i]);
    kept += stored_[i] ? 1 : 0;
  }
  const WriteResult result{.inserted = kept, .duplicates = clicks_.size() - kept};
  clicks_.resize(kept);
  return result;
}

}  // namespace shortener::pg
