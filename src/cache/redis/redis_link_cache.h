// L2: the slug -> link cache in Redis, shared by every serve replica. Key `link:{slug}` holds a
// compact binary CachedLink with a 24 h TTL; an unknown slug is a short-lived negative entry.
//
// Tickets across replicas: invalidate() bumps a per-slug version (`link-version:{slug}`) in the
// same transaction as the DEL and the PUBLISH, and a lookup returns the version it saw. A put
// carries that version and a small Lua script writes only if it is still current, so a replica
// whose store read was overtaken by another replica's PATCH cannot put the old value back for
// 24 h. Versions are compared modulo 2^16 (they share TieredLinkCache's 64-bit ticket).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/ports.h"
#include "redis/redis_client.h"

namespace shortener {

struct RedisLinkCacheOptions {
  std::string key_prefix = "link:";
  std::string version_prefix = "link-version:";
  std::string channel = "link-invalidations";  // every replica's TieredLinkCache listens here
  std::chrono::seconds ttl{86'400};            // the seed's 24 h
  std::chrono::seconds negative_ttl{30};       // a 404 flood stays off the store, briefly
  // Outlives any store read between a miss and its put; bounds the keys a busy day leaves.
  std::chrono::seconds version_ttl{600};
};

struct RedisLookup {
  LinkCache::Outcome outcome = LinkCache::Outcome::miss;
  CachedLinkPtr link;
  std::uint16_t version = 0;  // pass back to store()/store_negative()
};

struct RedisLinkCacheCounters {
  std::uint64_t hits = 0, negative_hits = 0, misses = 0;
  std::uint64_t errors = 0;      // Redis unavailable or a malformed value
  std::uint64_t stale_puts = 0;  // puts refused because an invalidation overtook them
};

class RedisLinkCache final : public LinkCache {
 public:
  explicit RedisLinkCache(RedisClient& client, RedisLinkCacheOptions options = {});

  // LinkCache on its own (ticket = version). Redis failures are counted: get() answers miss.
  Lookup get(std::string_view slug) override;
  void put(CachedLinkPtr link, std::uint64_t ticket) override;
  void put_negative(std::string_view slug, std::uint64_t ticket) override;
  void invalidate(std::string_view slug) override;

  // The same with failures as values, for TieredLinkCache.
  Result<RedisLookup> fetch(std::string_view slug);
  // fetch() of several slugs in one round trip; the lookups in the slugs' order.
  Result<std::vector<RedisLookup>> fetch_many(std::span<const std::string_view> slugs);
  Result<void> store(const CachedLink& link, std::uint16_t version);
  Result<void> store_negative(std::string_view slug, std::uint16_t version);
  // DEL + version bump + PUBLISH of the slug on the channel, as one transaction.
  Result<void> remove(std::string_view slug);

  const RedisLinkCacheOptions& options() const { return options_; }
  RedisLinkCacheCounters counters() const;

 private:
  Result<void> write(std::string_view slug, const std::string& value, std::chrono::seconds ttl,
                     std::uint16_t version);
  RedisLookup lookup_from(std::string_view slug, const RedisValue& value,
                          const RedisValue& version);
  void count_error() { errors_.fetch_add(1, std::memory_order_relaxed); }

  RedisClient& client_;
  RedisLinkCacheOptions options_;
  std::string ttl_text_, negative_ttl_text_, version_ttl_text_;
  std::atomic<std::uint64_t> hits_{0}, negative_hits_{0}, misses_{0}, errors_{0}, stale_puts_{0};
};

// The value stored under link:{slug}: binary, versioned. The slug is the key, not stored.
std::string encode_cached_link(const CachedLink& link);
std::string encode_negative_link();
// nullopt: malformed; a null pointer: a negative entry.
std::optional<CachedLinkPtr> decode_cached_link(std::string_view slug, std::string_view value);

}  // namespace shortener
