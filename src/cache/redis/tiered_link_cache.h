// The production LinkCache: L1 (in-process, per replica) in front of L2 (RedisLinkCache, shared).
//
//   get:        L1 -> on a miss, Redis -> on a Redis hit, populate L1.
//   put:        both levels, each guarded by its own ticket (L1 generation, L2 version).
//   invalidate: L1, then DEL + version bump + PUBLISH in Redis. If Redis is down, the slug is
//               retried every retry_interval until it is: otherwise its stale L2 copy would
//               outlive the outage by up to 24 h.
//   prefetch:   for the event loop: an L1 miss is queued to a LinkPrefetcher, whose thread
//               fetches whole batches of slugs from Redis in one round trip into the L1 (warm);
//               the redirect then answers from the L1 on its I/O thread.
//   subscriber: every replica listens on the invalidation channel and drops its L1 entry
//               (typically within a millisecond of the PUBLISH; bound: one round trip).
//
// Pub/sub loses messages published while a subscriber is disconnected, so after each
// (re)subscription the whole L1 is replaced by an empty one (a fresh L1 from the factory): a
// reconnect costs a cold L1, never a stale redirect. Readers load the L1 pointer without a lock;
// a replaced L1 stays alive for `retired_grace` so a reader still inside it is safe (an L1 call
// takes microseconds; the grace is seconds). Memory stays bounded even if Redis flaps: only the
// first retired L1 is full, the later ones hold what was cached between two reconnects.
//
// The 64-bit ticket packs: bits 0-38 the L1 ticket, bit 39 "L2 version known", bits 40-47 the
// L1 epoch (which L1 the ticket belongs to), bits 48-63 the L2 version.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cache/redis/link_prefetcher.h"
#include "cache/redis/redis_link_cache.h"
#include "redis/redis_subscriber.h"

namespace shortener {

struct TieredLinkCacheOptions {
  std::chrono::milliseconds retry_interval{250};  // failed invalidations are retried this often
  std::chrono::seconds retired_grace{10};         // see the comment above
  std::chrono::milliseconds ping_interval{1000};  // subscriber liveness check
  std::size_t prefetch_batch = 128;               // slugs per Redis round trip, at most
  std::size_t prefetch_queue = 4096;              // waiting slugs beyond which prefetch declines
};

// L1 hits are not counted here (a shared counter on every redirect would bounce a cache line
// between cores): the L1's own per-shard counters have them, through visit_l1().
struct TieredLinkCacheCounters {
  std::uint64_t l2_hits = 0, l2_negative_hits = 0;
  std::uint64_t misses = 0;                  // both levels missed: the caller reads the store
  std::uint64_t l2_errors = 0;               // Redis calls that failed (lookups, puts, removes)
  std::uint64_t invalidations_received = 0;  // messages from any replica (this one included)
  std::uint64_t invalidations_pending = 0;   // waiting for Redis to come back
  std::uint64_t l1_flushes = 0;              // L1 replaced after a (re)subscription
  LinkPrefetcherCounters prefetch;
};

class TieredLinkCache final : public LinkCache {
 public:
  using L1Factory = std::function<std::unique_ptr<LinkCache>()>;

  // `subscriber_config`: the Redis the L2 client talks to (the subscriber needs a connection of
  // its own). Call start() before serving so invalidations from other replicas arrive.
  TieredLinkCache(L1Factory make_l1, RedisLinkCache& l2, RedisConfig subscriber_config,
                  TieredLinkCacheOptions options = {});
  ~TieredLinkCache() override;

  void start();  // subscriber, retry and prefetch threads
  void stop();   // idempotent

  Lookup get(std::string_view slug) override;
  void put(CachedLinkPtr link, std::uint64_t ticket) override;
  void put_negative(std::string_view slug, std::uint64_t ticket) override;
  void invalidate(std::string_view slug) override;

  // L1 only, never I/O: for the event loop's fast path (a miss there goes to the blocking pool,
  // which calls get()).
  Lookup peek(std::string_view slug) override;
  // Queues an L1 miss for the prefetch thread, which completes it with what Redis holds.
  void prefetch(std::string_view slug, PrefetchDone done) override;
  // What the prefetch thread does with a batch: get() of many slugs without the store, in one
  // Redis round trip for those the L1 lacks; what Redis holds is put into the L1 too.
  std::vector<Lookup> warm(std::span<const std::string> slugs);

  bool subscribed() const { return subscriber_.subscribed(); }
  TieredLinkCacheCounters counters() const;
  // Runs `visit` on the current L1 (e.g. to read MemoryLinkCache::counters() for /metrics).
  void visit_l1(const std::function<void(const LinkCache&)>& visit) const;

 private:
  struct Retired {
    std::unique_ptr<LinkCache> l1;
    std::chrono::steady_clock::time_point at;
  };
  static std::uint64_t pack(std::uint64_t l1_ticket, std::uint64_t epoch,
                            std::optional<std::uint16_t> version);
  // What Redis answered, put into the L1 under the miss's ticket and counted; false: Redis had
  // nothing either.
  bool keep_in_l1(LinkCache& l1, std::string_view slug, const RedisLookup& remote,
                  std::uint64_t ticket);
  void on_message(std::string_view slug);
  void flush_l1();
  void maintain();
  void retry_invalidations();

  L1Factory make_l1_;
  RedisLinkCache& l2_;
  TieredLinkCacheOptions options_;
  std::atomic<LinkCache*> l1_;
  std::atomic<std::uint64_t> epoch_{0};
  mutable std::mutex l1_mutex_;  // owner_ and retired_
  std::unique_ptr<LinkCache> owner_;
  std::vector<Retired> retired_;
  mutable std::mutex pending_mutex_;
  std::set<std::string, std::less<>> pending_;  // slugs whose Redis invalidation failed
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::thread maintenance_;
  std::atomic<std::uint64_t> l2_hits_{0}, l2_negative_hits_{0}, misses_{0}, l2_errors_{0},
      received_{0}, flushes_{0};
  LinkPrefetcher prefetcher_;   // its thread calls warm()
  RedisSubscriber subscriber_;  // last: its thread calls into everything above
};

}  // namespace shortener
