// Packed dimension counts: how many clicks each value of each dimension (country, city, referrer,
// device, browser, os) had, for one link over one period (a UTC day, or SQLite's 8-day blocks),
// stored as one blob per row instead of one row per value. Shared by the SQLite and PostgreSQL
// adapters, which store the same bytes (BLOB / bytea).
//
// Why: a busy link has ~2,300 distinct values a day. As rows, a 90-day query reads ~200k of them
// and a batch of clicks upserts one row per touched value; packed, the query decodes a few blobs
// per link and a batch writes one row per touched period.
//
// Format: entries sorted by (dim, value bytes), each `dim` (1 byte, Dim below: on-disk codes,
// never renumber), value length (varint), value bytes, clicks (varint), bot clicks (varint).
#pragma once

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

namespace shortener::storage {

enum Dim : std::uint8_t { kCountry, kCity, kReferrer, kDevice, kBrowser, kOs, kDimCount };

// The value a click counts under in `dim`. Cities are "City, CC": a name alone is ambiguous
// across countries (Paris FR, Paris US). Empty values count as "unknown".
std::string dim_value(const EnrichedClick& click, Dim dim);

// One period's counts, built in memory from a batch of clicks.
class DimCountsBuilder {
 public:
  void add(const EnrichedClick& click);
  void add(Dim dim, std::string value, std::int64_t clicks, std::int64_t bot_clicks);
  std::string encode() const;

 private:
  std::map<std::pair<std::uint8_t, std::string>, std::pair<std::int64_t, std::int64_t>> counts_;
};

// Sums two blobs (a stored one and a batch's increments) into one, in a single sorted merge.
// Errc::internal when either is malformed.
Result<std::string> merge_dim_counts(std::string_view a, std::string_view b);

// Sums any number of blobs into one (compaction). Errc::internal when one is malformed.
Result<std::string> sum_dim_counts(const std::vector<std::string_view>& blobs);

// Sums many blobs (the periods of a range, over one or many links), then ranks each dimension.
class DimTotals {
 public:
  // Errc::internal when `blob` is malformed.
  Result<void> add(std::string_view blob);
  // The `top` values of `dim` by clicks (bots added when include_bots), ties by value bytes;
  // values with no counted click are left out.
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

}  // namespace shortener::storage
