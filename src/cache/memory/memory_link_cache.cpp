#include "cache/memory/memory_link_cache.h"

#include <algorithm>
#include <bit>

namespace shortener {

namespace {
// Rough cost of an entry beyond its strings: list node, map node, CachedLink, control block.
constexpr std::size_t kEntryOverheadBytes = 160;
}  // namespace

MemoryLinkCache::MemoryLinkCache(MemoryLinkCacheOptions options)
    : options_(options),
      shard_mask_(std::bit_ceil(std::max<std::size_t>(options.shards, 1)) - 1),
      max_entries_per_shard_(std::max<std::size_t>(options.max_entries / (shard_mask_ + 1), 1)),
      max_bytes_per_shard_(std::max<std::size_t>(options.max_bytes / (shard_mask_ + 1), 1)),
      shards_(shard_mask_ + 1) {}

MemoryLinkCache::Shard& MemoryLinkCache::shard_for(std::string_view, std::size_t hash) {
  // The map uses the low bits of the same hash for buckets; take high bits for the shard.
  return shards_[(hash >> 48) & shard_mask_];
}

LinkCache::Lookup MemoryLinkCache::get(std::string_view slug) {
  std::size_t hash = Hash{}(slug);
  Shard& shard = shard_for(slug, hash);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(slug);
  if (found == shard.index.end()) {
    ++shard.misses;
    return {Outcome::miss, nullptr, shard.generation};
  }
  auto it = found->second;
  if (it->expires <= SteadyClock::now()) {
    erase(shard, it);
    ++shard.misses;
    return {Outcome::miss, nullptr, shard.generation};
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  if (!it->link) {
    ++shard.negative_hits;
    return {Outcome::negative, nullptr, 0};
  }
  ++shard.hits;
  return {Outcome::hit, it->link, 0};
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
  if (auto found = shard.index.find(slug); found != shard.index.end()) erase(shard, found->second);
  shard.lru.push_front(Entry{std::string(slug), std::move(link), SteadyClock::now() + ttl, bytes});
  shard.index.emplace(shard.lru.front().slug, shard.lru.begin());
  shard.bytes += bytes;
  while (!shard.lru.empty() &&
         (shard.index.size() > max_entries_per_shard_ || shard.bytes > max_bytes_per_shard_)) {
    erase(shard, std::prev(shard.lru.end()));
    ++shard.evictions;
  }
}

void MemoryLinkCache::invalidate(std::string_view slug) {
  Shard& shard = shard_for(slug, Hash{}(slug));
  std::lock_guard lock(shard.mutex);
  ++shard.generation;
  if (auto found = shard.index.find(slug); found != shard.index.end()) erase(shard, found->second);
}

void MemoryLinkCache::erase(Shard& shard, std::list<Entry>::iterator it) {
  shard.bytes -= it->bytes;
  shard.index.erase(it->slug);
  shard.lru.erase(it);
}

CacheCounters MemoryLinkCache::counters() const {
  CacheCounters total;
  for (const Shard& shard : shards_) {
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
