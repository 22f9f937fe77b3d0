#include "storage/common/dim_counts.h"

#include <algorithm>

namespace shortener::storage {
namespace {

struct Entry {
  std::uint8_t dim = 0;
  std::string_view value;
  std::uint64_t clicks = 0;
  std::uint64_t bots = 0;
  std::string_view encoded;  // the entry's bytes in the blob it was read from

  // The blob's order: by dimension, then value bytes (unsigned, as std::string_view compares).
  bool operator<(const Entry& other) const {
    return dim != other.dim ? dim < other.dim : value < other.value;
  }
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
    const char* start = rest_.data();
    e.dim = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    std::uint64_t size = 0;
    ok_ = e.dim < kDimCount && varint(size) && size <= rest_.size();
    if (!ok_) return false;
    e.value = rest_.substr(0, size);
    rest_.remove_prefix(size);
    ok_ = varint(e.clicks) && varint(e.bots);
    e.encoded = std::string_view(start, static_cast<std::size_t>(rest_.data() - start));
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

std::string dim_value(const EnrichedClick& click, Dim dim) {
  const std::string* field = &click.os;
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
      break;
  }
  if (field->empty()) return "unknown";
  if (dim != kCity || *field == "unknown" || click.country.empty() || click.country == "unknown")
    return *field;
  return *field + ", " + click.country;
}

void DimCountsBuilder::add(const EnrichedClick& click) {
  for (std::uint8_t dim = 0; dim < kDimCount; ++dim)
    add(static_cast<Dim>(dim), dim_value(click, static_cast<Dim>(dim)), click.bot ? 0 : 1,
        click.bot ? 1 : 0);
}

void DimCountsBuilder::add(Dim dim, std::string value, std::int64_t clicks,
                           std::int64_t bot_clicks) {
  auto& [humans, bots] = counts_[{dim, std::move(value)}];
  humans += clicks;
  bots += bot_clicks;
}

std::string DimCountsBuilder::encode() const {
  std::string out;
  for (const auto& [key, counts] : counts_) {  // std::map: already in the blob's order
    put(out, Entry{key.first,
                   key.second,
                   static_cast<std::uint64_t>(counts.first),
                   static_cast<std::uint64_t>(counts.second),
                   {}});
  }
  return out;
}

Result<std::string> merge_dim_counts(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  BlobReader left(a);
  BlobReader right(b);
  Entry l, r;
  bool has_l = left.next(l);
  bool has_r = right.next(r);
  while (has_l || has_r) {
    // An entry on one side only is copied as it is: most of a stored blob is untouched by a
    // batch, so the merge is mostly memcpy.
    if (has_l && (!has_r || l < r)) {
      out.append(l.encoded);
      has_l = left.next(l);
    } else if (has_r && (!has_l || r < l)) {
      out.append(r.encoded);
      has_r = right.next(r);
    } else {  // the same value on both sides
      put(out, Entry{l.dim, l.value, l.clicks + r.clicks, l.bots + r.bots, {}});
      has_l = left.next(l);
      has_r = right.next(r);
    }
  }
  if (!left.ok() || !right.ok()) return malformed();
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
    put(out, Entry{key.first, key.second, counts.first, counts.second, {}});
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

std::vector<Count> DimTotals::top(Dim dim, std::size_t top, bool include_bots) const {
  std::vector<std::pair<std::int64_t, const std::string*>> ranked;
  for (const auto& [value, counts] : sums_[dim]) {
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

}  // namespace shortener::storage
