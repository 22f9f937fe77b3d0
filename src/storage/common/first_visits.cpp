#include "storage/common/first_visits.h"

#include <functional>

namespace shortener::storage {
namespace {

// splitmix64's finaliser: visitor hashes are uniform already, but hand-written ones may not be.
std::uint64_t mix(std::uint64_t v) {
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return v ^ (v >> 31);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::uint64_t visitor_key(std::string_view visitor) {
  if (visitor.size() == 16) {
    std::uint64_t v = 0;
    for (char c : visitor) {
      const int d = hex_digit(c);
      if (d < 0) return std::hash<std::string_view>()(visitor);
      v = v << 4 | static_cast<std::uint64_t>(d);
    }
    return v;
  }
  return std::hash<std::string_view>()(visitor);
}

std::size_t VisitorSet::slot(std::uint64_t v) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = mix(v) & mask;
  while (slots_[i] != 0 && slots_[i] != v) i = (i + 1) & mask;
  return i;
}

bool VisitorSet::contains(std::uint64_t v) const {
  if (v == 0) return has_zero_;
  return !slots_.empty() && slots_[slot(v)] == v;
}

bool VisitorSet::insert(std::uint64_t v) {
  if (v == 0) return !std::exchange(has_zero_, true);
  if (2 * (size_ + 1) > slots_.size()) grow();
  std::uint64_t& s = slots_[slot(v)];
  if (s == v) return false;
  s = v;
  ++size_;
  return true;
}

void VisitorSet::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
  for (std::uint64_t v : old)
    if (v != 0) slots_[slot(v)] = v;
}

VisitorSet* FirstVisits::find(const LinkDay& key) {
  auto it = sets_.find(key);
  return it == sets_.end() ? nullptr : &it->second;
}

const VisitorSet* FirstVisits::find(const LinkDay& key) const {
  auto it = sets_.find(key);
  return it == sets_.end() ? nullptr : &it->second;
}

void FirstVisits::drop_before(TimeUs day) {
  std::erase_if(sets_, [&](const auto& entry) { return entry.first.second < day; });
}

}  // namespace shortener::storage
