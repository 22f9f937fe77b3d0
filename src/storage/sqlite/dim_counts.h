// Packed dimension counts: how many clicks each value of each dimension (country, city, referrer,
// device, browser, os) had, for one link over one period (a UTC day or an 8-day block), stored
// as one blob per row instead of one row per value.
//
// Why: a busy link has ~2,300 distinct values a day. As rows, a 90-day query reads ~200k of them
// (40–90 ms in SQLite on the 2-core box) and a batch of clicks upserts one row per touched
// value; packed, the query decodes ≤ 25 blobs and a batch does one upsert per touched period.
//
// Format: entries sorted by (dim, value), each `dim` (1 byte, Dim below: on-disk codes, never
// renumber), value length (varint), value bytes, clicks (varint), bot clicks (varint).
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/click_ports.h"
#include "core/error.h"

namespace shortener::sqlite {

enum Dim : std::uint8_t { kCountry, kCity, kReferrer, kDevice, kBrowser, kOs, kDimCount };

// The value a click counts under in `dim`. Cities are "City, CC": a name alone is ambiguous
// across countries (Paris FR, Paris US). Empty values count as "unknown".
std::string dim_value(const EnrichedClick& click, Dim dim);

// One period's increments, built in memory from a batch of clicks.
class DimCountsBuilder {
 public:
  void add(const EnrichedClick& click);
  void add(Dim dim, std::string value, std::int64_t clicks, std::int64_t bot_clicks);
  std::string encode() const;

 private:
  std::map<std::pair<std::uint8_t, std::string>, std::pair<std::int64_t, std::int64_t>> counts_;
};

// Sums two blobs (the stored one and a batch's increments) into one, in a single sorted merge.
// Errc::internal when either is malformed.
Result<std::string> merge_dim_counts(std::string_view a, std::string_view b);

// Registers dim_counts_merge(a, b) on a connection, for
// `ON CONFLICT DO UPDATE SET counts = dim_counts_merge(counts, excluded.counts)`.
Result<void> register_dim_counts_merge(sqlite3* db);

// Sums many blobs (the periods of a range, over one or many links), then ranks each dimension.
class DimTotals {
 public:
  // Errc::internal when `blob` is malformed.
  Result<void> add(std::string_view blob);
  // The `top` values of `dim` by clicks (bots added when include_bots), ties by value; values
  // with no counted click are left out.
  std::vector<Count> top(Dim dim, std::size_t top, bool include_bots) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Sums =
      std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>, Hash, std::equal_to<>>;
  std::array<Sums, kDimCount> sums_;
};

}  // namespace shortener::sqlite
