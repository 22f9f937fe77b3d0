#include "storage/postgres/dim_counts.h"

#include <algorithm>

#include "storage/postgres/arrays.h"

namespace shortener::pg {
namespace {

struct Entry {
  std::uint8_t dim = 0;
  std::string_view value;
  std::uint64_t clicks = 0;
  std::uint64_t bots = 0;
};

void put_varint(std::string& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}

void put(std::string& out, const Entry& e) {
  out.push_back(static_cast<char>(e.dim));
  put_varint(out, e.value.size());
  out.append(e.value);
  put_varint(out, e.clicks);
  put_varint(out, e.bots);
}

// Walks a blob; every read is bounds-checked, so a corrupt blob is an error, never a crash.
class BlobReader {
 public:
  explicit BlobReader(std::string_view blob) : rest_(blob) {}

  // false at the end or on a malformed entry (then ok() is false too).
  bool next(Entry& e) {
    if (rest_.empty() || !ok_) return false;
    e.dim = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    std::uint64_t size = 0;
    ok_ = e.dim < kDimCount && varint(size) && size <= rest_.size();
    if (!ok_) return false;
    e.value = rest_.substr(0, size);
    rest_.remove_prefix(size);
    ok_ = varint(e.clicks) && varint(e.bots);
    return ok_;
  }
  bool ok() const { return ok_; }

 private:
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && !rest_.empty(); shift += 7) {
      const auto byte = static_cast<std::uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      v |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  std::string_view rest_;
  bool ok_ = true;
};

std::unexpected<Error> malformed() {
  return fail(Errc::internal, "malformed dimension counts blob");
}

}  // namespace

std::string dim_value(const EnrichedClick& click, int dim) {
  const std::string* const fields[kDimCount] = {&click.country, &click.city,    &click.referrer,
                                                &click.device,  &click.browser, &click.os};
  const std::string& field = *fields[dim];
  if (field.empty()) return "unknown";
  if (dim != 1 || field == "unknown" || click.country.empty() || click.country == "unknown")
    return field;
  return field + ", " + click.country;
}

void DimCountsBuilder::add(const EnrichedClick& click) {
  for (int dim = 0; dim < kDimCount; ++dim) {
    // Valid UTF-8, like every text column PostgreSQL returns (arrays.h), so the values ranked
    // by stats() and the raw rows' columns agree.
    auto& [humans, bots] =
        counts_[{static_cast<std::uint8_t>(dim), valid_utf8(dim_value(click, dim))}];
    (click.bot ? bots : humans) += 1;
  }
}

std::string DimCountsBuilder::encode() const {
  std::string out;
  for (const auto& [key, counts] : counts_) {  // std::map: already in the blob's order
    put(out, Entry{key.first, key.second, static_cast<std::uint64_t>(counts.first),
                   static_cast<std::uint64_t>(counts.second)});
  }
  return out;
}

Result<std::string> sum_dim_counts(const std::vector<std::string_view>& blobs) {
  // Keys view into `blobs`; std::map keeps them in the blob's order for encoding.
  std::map<std::pair<std::uint8_t, std::string_view>, std::pair<std::uint64_t, std::uint64_t>> sums;
  for (std::string_view blob : blobs) {
    BlobReader reader(blob);
    Entry e;
    while (reader.next(e)) {
      auto& [clicks, bots] = sums[{e.dim, e.value}];
      clicks += e.clicks;
      bots += e.bots;
    }
    if (!reader.ok()) return malformed();
  }
  std::string out;
  for (const auto& [key, counts] : sums)
    put(out, Entry{key.first, key.second, counts.first, counts.second});
  return out;
}

Result<void> DimTotals::add(std::string_view blob) {
  BlobReader reader(blob);
  Entry e;
  while (reader.next(e)) {
    Sums& sums = sums_[e.dim];
    auto it = sums.find(e.value);
    if (it == sums.end()) it = sums.emplace(std::string(e.value), std::pair{0LL, 0LL}).first;
    it->second.first += static_cast<std::int64_t>(e.clicks);
    it->second.second += static_cast<std::int64_t>(e.bots);
  }
  if (!reader.ok()) return malformed();
  return {};
}

std::vector<Count> DimTotals::top(int dim, std::size_t top, bool include_bots) const {
  std::vector<std::pair<std::int64_t, const std::string*>> ranked;
  for (const auto& [value, counts] : sums_[static_cast<std::size_t>(dim)]) {
    const std::int64_t n = counts.first + (include_bots ? counts.second : 0);
    if (n > 0) ranked.emplace_back(n, &value);
  }
  const auto by_clicks_then_value = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  };
  const auto end = ranked.begin() + static_cast<std::ptrdiff_t>(std::min(top, ranked.size()));
  std::partial_sort(ranked.begin(), end, ranked.end(), by_clicks_then_value);
  std::vector<Count> out;
  for (auto it = ranked.begin(); it != end; ++it) out.push_back(Count{*it->second, it->first});
  return out;
}

}  // namespace shortener::pg
