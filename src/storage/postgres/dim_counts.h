// Packed dimension counts: how many clicks each value of each dimension (country, city,
// referrer, device, browser, os) had, for one link over (part of) one UTC day, as one bytea.
//
// The format is the SQLite adapter's (storage/sqlite/dim_counts.h), byte for byte: entries
// sorted by (dim, value), each `dim` (1 byte: 0 country .. 5 os, never renumber), value length
// (varint), value bytes, clicks (varint), bot clicks (varint). Adapters may not depend on each
// other, hence this copy of the little code they share; it could move to core unchanged.
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

namespace shortener::pg {

inline constexpr int kDimCount = 6;

// The value a click counts under in `dim`: exactly the SQLite adapter's dim_value (cities are
// "City, CC", as a name alone is ambiguous across countries; empty values count as "unknown").
std::string dim_value(const EnrichedClick& click, int dim);

// One (link, day)'s counts, built in memory from a batch of clicks.
class DimCountsBuilder {
 public:
  void add(const EnrichedClick& click);
  std::string encode() const;

 private:
  std::map<std::pair<std::uint8_t, std::string>, std::pair<std::int64_t, std::int64_t>> counts_;
};

// Sums any number of blobs into one (compaction). Errc::internal when one is malformed.
Result<std::string> sum_dim_counts(const std::vector<std::string_view>& blobs);

// Sums many blobs (the rows of a range, over one or many links), then ranks each dimension.
class DimTotals {
 public:
  // Errc::internal when `blob` is malformed.
  Result<void> add(std::string_view blob);
  // The `top` values of `dim` by clicks (bots added when include_bots), ties by value bytes;
  // values with no counted click are left out.
  std::vector<Count> top(int dim, std::size_t top, bool include_bots) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Sums =
      std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>, Hash, std::equal_to<>>;
  std::array<Sums, kDimCount> sums_;
};

}  // namespace shortener::pg
