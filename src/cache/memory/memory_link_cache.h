// L1: the in-process slug -> link cache. Sharded, bounded by entries and bytes, with a TTL
// for positive entries and a short one for negative entries (unknown slugs), so a 404 flood
// does not reach the store. Eviction is second-chance LRU (CLOCK): a hit only marks its entry,
// and eviction moves marked entries from the tail back to the front once before it evicts an
// unmarked one, so a hit writes to no other entry's memory. A hit locks one shard, reads the
// coarse monotonic clock and copies a shared_ptr: no allocation, no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

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
  ~MemoryLinkCache() override;

  Lookup get(std::string_view slug) override;
  Lookup recheck(std::string_view slug) override;
  void put(CachedLinkPtr link, std::uint64_t ticket) override;
  void put_negative(std::string_view slug, std::uint64_t ticket) override;
  void invalidate(std::string_view slug) override;

  CacheCounters counters() const;

 private:
  struct Shard;  // memory_link_cache.cpp: keeps the hash map's header out of this one

  Shard& shard_for(std::string_view slug, std::size_t hash);
  Lookup lookup(std::string_view slug, bool counted);
  void insert(std::string_view slug, CachedLinkPtr link, std::uint64_t ticket,
              std::chrono::seconds ttl);

  MemoryLinkCacheOptions options_;
  std::size_t shard_mask_;
  std::size_t max_entries_per_shard_;
  std::size_t max_bytes_per_shard_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace shortener
