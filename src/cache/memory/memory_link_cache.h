// L1: the in-process slug -> link cache. Sharded LRU bounded by entries and bytes, with a TTL
// for positive entries and a short one for negative entries (unknown slugs), so a 404 flood
// does not reach the store. A hit locks one shard, moves a list node and copies a shared_ptr:
// no allocation, no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ports.h"

namespace shortener {

struct MemoryLinkCacheOptions {
  std::size_t max_entries = 100'000;
  std::size_t max_bytes = 64u << 20;  // slug + URL bytes plus a per-entry overhead estimate
  std::chrono::seconds ttl{300};      // bounds staleness if an invalidation is ever missed
  std::chrono::seconds negative_ttl{5};
  std::size_t shards = 16;  // rounded up to a power of two; ~4x the thread count avoids contention
};

struct CacheCounters {
  std::uint64_t hits = 0;
  std::uint64_t negative_hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

class MemoryLinkCache final : public LinkCache {
 public:
  using SteadyClock = std::chrono::steady_clock;
  explicit MemoryLinkCache(MemoryLinkCacheOptions options = {});

  Lookup get(std::string_view slug) override;
  void put(CachedLinkPtr link, std::uint64_t ticket) override;
  void put_negative(std::string_view slug, std::uint64_t ticket) override;
  void invalidate(std::string_view slug) override;

  CacheCounters counters() const;

 private:
  struct Entry {
    std::string slug;
    CachedLinkPtr link;  // null: negative entry
    SteadyClock::time_point expires;
    std::size_t bytes;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<std::string, std::list<Entry>::iterator, Hash, std::equal_to<>> index;
    std::size_t bytes = 0;
    std::uint64_t generation = 0;  // bumped by invalidate(); see LinkCache::Lookup::ticket
    std::uint64_t hits = 0, negative_hits = 0, misses = 0, evictions = 0;
  };

  Shard& shard_for(std::string_view slug, std::size_t hash);
  void insert(std::string_view slug, CachedLinkPtr link, std::uint64_t ticket,
              std::chrono::seconds ttl);
  void erase(Shard& shard, std::list<Entry>::iterator it);

  MemoryLinkCacheOptions options_;
  std::size_t shard_mask_;
  std::size_t max_entries_per_shard_;
  std::size_t max_bytes_per_shard_;
  std::vector<Shard> shards_;
};

}  // namespace shortener
