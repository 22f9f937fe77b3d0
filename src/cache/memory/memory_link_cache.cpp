#include "cache/memory/memory_link_cache.h"

#include <algorithm>
#include <bit>
#include <boost/unordered/unordered_flat_map.hpp>
#include <list>
#include <mutex>
#include <string>

#include "core/coarse_clock.h"

namespace shortener {

namespace {

// Rough cost of an entry beyond its strings: map slot, order node, CachedLink, control block.
constexpr std::size_t kEntryOverheadBytes = 160;

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

// An open-addressing map holds each entry inline (slugs fit std::string's inline buffer), so a
// hit touches the map's group metadata and one slot; the order list is touched by inserts and
// evictions only.
struct MemoryLinkCache::Shard {
  struct Slot {
    CachedLinkPtr link;               // null: negative entry
    SteadyClock::time_point expires;  // on the coarse clock
    std::size_t bytes = 0;
    std::list<std::string>::iterator order;
    bool referenced = false;  // hit since it was inserted or last given a second chance
  };
  using Index = boost::unordered_flat_map<std::string, Slot, Hash, std::equal_to<>>;

  void erase(Index::iterator it) {
    bytes -= it->second.bytes;
    order.erase(it->second.order);
    index.erase(it);
  }

  mutable std::mutex mutex;
  Index index;
  std::list<std::string> order;  // front = most recently inserted or given a second chance
  std::size_t bytes = 0;
  std::uint64_t generation = 0;  // bumped by invalidate(); see LinkCache::Lookup::ticket
  std::uint64_t hits = 0, negative_hits = 0, misses = 0, evictions = 0;
};

MemoryLinkCache::MemoryLinkCache(MemoryLinkCacheOptions options)
    : options_(options),
      shard_mask_(std::bit_ceil(std::max<std::size_t>(options.shards, 1)) - 1),
      max_entries_per_shard_(std::max<std::size_t>(options.max_entries / (shard_mask_ + 1), 1)),
      max_bytes_per_shard_(std::max<std::size_t>(options.max_bytes / (shard_mask_ + 1), 1)),
      shards_(std::make_unique<Shard[]>(shard_mask_ + 1)) {}

MemoryLinkCache::~MemoryLinkCache() = default;

MemoryLinkCache::Shard& MemoryLinkCache::shard_for(std::string_view, std::size_t hash) {
  // The map mixes the same hash for its own use; take high bits for the shard.
  return shards_[(hash >> 48) & shard_mask_];
}

LinkCache::Lookup MemoryLinkCache::get(std::string_view slug) {
  return lookup(slug, true);
}

LinkCache::Lookup MemoryLinkCache::recheck(std::string_view slug) {
  return lookup(slug, false);
}

LinkCache::Lookup MemoryLinkCache::lookup(std::string_view slug, bool counted) {
  Shard& shard = shard_for(slug, Hash{}(slug));
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(slug);
  if (found == shard.index.end()) {
    shard.misses += counted;
    return {Outcome::miss, nullptr, shard.generation};
  }
  Shard::Slot& slot = found->second;
  if (slot.expires <= coarse_steady_now()) {
    shard.erase(found);
    shard.misses += counted;
    return {Outcome::miss, nullptr, shard.generation};
  }
  slot.referenced = true;
  if (!slot.link) {
    shard.negative_hits += counted;
    return {Outcome::negative, nullptr, 0};
  }
  shard.hits += counted;
  return {Outcome::hit, slot.link, 0};
}

void MemoryLinkCache::put(CachedLinkPtr link, std::uint64_t ticket) {
  std::string_view slug = link->slug;
  insert(slug, std::move(link), ticket, options_.ttl);
}

void MemoryLinkCache::put_negative(std::string_view slug, std::uint64_t ticket) {
  insert(slug, nullptr, ticket, options_.negative_ttl);
}

void MemoryLinkCache::insert(std::string_view slug, CachedLinkPtr link, std::uint64_t ticket,
                             std::chrono::seconds ttl) {
  Shard& shard = shard_for(slug, Hash{}(slug));
  std::size_t bytes =
      slug.size() + (link ? link->url.size() + link->slug.size() : 0) + kEntryOverheadBytes;
  std::lock_guard lock(shard.mutex);
  if (ticket != shard.generation) return;  // invalidated since the miss: value may be stale
  if (auto found = shard.index.find(slug); found != shard.index.end()) shard.erase(found);
  shard.order.emplace_front(slug);
  shard.index.emplace(shard.order.front(), Shard::Slot{.link = std::move(link),
                                                       .expires = coarse_steady_now() + ttl,
                                                       .bytes = bytes,
                                                       .order = shard.order.begin()});
  shard.bytes += bytes;
  // Second-chance eviction from the tail. Each entry gets at most one second chance per pass,
  // so this ends within two passes.
  while (!shard.order.empty() &&
         (shard.index.size() > max_entries_per_shard_ || shard.bytes > max_bytes_per_shard_)) {
    auto tail = std::prev(shard.order.end());
    auto victim = shard.index.find(*tail);
    if (victim->second.referenced) {
      victim->second.referenced = false;
      shard.order.splice(shard.order.begin(), shard.order, tail);
      continue;
    }
    shard.erase(victim);
    ++shard.evictions;
  }
}

void MemoryLinkCache::invalidate(std::string_view slug) {
  Shard& shard = shard_for(slug, Hash{}(slug));
  std::lock_guard lock(shard.mutex);
  ++shard.generation;
  if (auto found = shard.index.find(slug); found != shard.index.end()) shard.erase(found);
}

CacheCounters MemoryLinkCache::counters() const {
  CacheCounters total;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    total.hits += shard.hits;
    total.negative_hits += shard.negative_hits;
    total.misses += shard.misses;
    total.evictions += shard.evictions;
    total.entries += shard.index.size();
    total.bytes += shard.bytes;
  }
  return total;
}

}  // namespace shortener
