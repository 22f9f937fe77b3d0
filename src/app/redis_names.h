// Everything a deployment keeps in Redis, named under --redis-prefix (so several deployments,
// or test runs, can share one server), and the visitor salts every worker must agree on.
#pragma once

#include <string>

#include "cache/redis/redis_link_cache.h"
#include "live/redis/redis_live_feed.h"
#include "queue/redis/redis_click_queue.h"
#include "redis/redis_client.h"
#include "worker/click_enricher.h"
#include "worker/click_pipeline.h"

namespace shortener {

RedisLinkCacheOptions redis_cache_options(const std::string& prefix);
RedisClickQueueOptions redis_queue_options(const std::string& prefix);
RedisLiveFeedOptions redis_live_options(const std::string& prefix);
std::string redis_rate_limit_prefix(const std::string& prefix);

// Shutdown of click workers consuming the stream: they stop taking entries, batches being
// stored commit and are acknowledged until `deadline`, then the workers stop; what is still
// pending is reclaimed by another worker (idempotent writes). The consumer leaves the group
// when it holds nothing pending.
void stop_stream_consumers(RedisClickQueue& stream, ClickWorkers& workers,
                           std::chrono::steady_clock::time_point deadline);

// The client's series on /metrics: up (as the caller knows it), round trips, errors, latency.
void render_redis_client(std::string& out, const RedisClient& client, bool up);

// Daily visitor salts in Redis: SET NX with a two-day expiry, then GET: the first worker's
// proposal wins and every worker hashes a visitor alike.
class RedisSharedSalts final : public SharedSalts {
 public:
  RedisSharedSalts(RedisClient& client, std::string prefix)
      : client_(client), prefix_(std::move(prefix)) {}
  std::optional<std::string> agree(enrich::VisitorDay day, const std::string& proposed) override;

 private:
  RedisClient& client_;
  std::string prefix_;
};

}  // namespace shortener
