#include "app/backplane.h"

#include <spdlog/spdlog.h>

#include "app/redis_names.h"
#include "cache/memory/memory_link_cache.h"
#include "cache/memory/memory_rate_limiter.h"
#include "cache/redis/redis_rate_limiter.h"
#include "cache/redis/tiered_link_cache.h"
#include "live/memory/memory_live_feed.h"
#include "live/redis/redis_live_feed.h"
#include "metrics/exposition.h"
#include "queue/memory/memory_click_queue.h"
#include "queue/redis/redis_click_queue.h"
#include "queue/redis/spooling_click_queue.h"
#include "redis/redis_config.h"

namespace shortener {

namespace {

MemoryLinkCacheOptions l1_options(const ServeConfig& config) {
  return {.max_entries = config.cache_entries,
          .max_bytes = config.cache_mb << 20,
          .shards = static_cast<std::size_t>(4 * config.threads)};
}

void render_l1(std::string& out, const CacheCounters& c) {
  metrics::append(out, "shortener_cache_hits_total", "counter", "L1 link cache hits.",
                  static_cast<double>(c.hits));
  metrics::append(out, "shortener_cache_negative_hits_total", "counter",
                  "L1 hits on unknown slugs.", static_cast<double>(c.negative_hits));
  metrics::append(out, "shortener_cache_misses_total", "counter", "L1 link cache misses.",
                  static_cast<double>(c.misses));
  metrics::append(out, "shortener_cache_entries", "gauge", "L1 link cache entries.",
                  static_cast<double>(c.entries));
}

// Clicks a previous run could not process before exiting are replayed first. The file is kept
// (renamed) until the queue has drained once, so a crash during replay loses nothing either;
// event ids make a second replay harmless.
void replay_spool(const std::filesystem::path& data_dir, MemoryClickQueue& queue) {
  auto spool = data_dir / "clicks.spool";
  auto replaying = data_dir / "clicks.spool.replaying";
  std::vector<ClickEvent> events;
  for (const auto& path : {replaying, spool}) {
    auto loaded = read_spool(path);
    if (!loaded) continue;
    for (auto& event : *loaded) events.push_back(std::move(event));
  }
  if (events.empty()) return;
  std::error_code ec;
  if (std::filesystem::exists(spool)) {
    auto merged = write_spool(replaying, events);
    if (merged) std::filesystem::remove(spool, ec);
  }
  spdlog::info("replaying {} spooled clicks", events.size());
  (void)queue.push(std::move(events));
  queue.on_drained([replaying] {
    std::error_code ignored;
    std::filesystem::remove(replaying, ignored);
  });
}

// The embedded default: everything in this process; unprocessed clicks are spooled to the data
// dir at shutdown and replayed at the next start.
class EmbeddedBackplane final : public Backplane {
 public:
  explicit EmbeddedBackplane(const ServeConfig& config)
      : data_dir_(config.store.data_dir),
        cache_(l1_options(config)),
        limiter_(config.anon_rate_limit) {}

  LinkCache& cache() override { return cache_; }
  RateLimiter& limiter() override { return limiter_; }
  ClickQueue& queue() override { return queue_; }
  ClickQueue* worker_queue() override { return &queue_; }
  LiveFeed& live() override { return live_; }
  void start() override { replay_spool(data_dir_, queue_); }
  std::string degraded() const override { return {}; }

  void render_metrics(std::string& out) const override {
    render_l1(out, cache_.counters());
    metrics::append(out, "shortener_click_queue_length", "gauge", "Clicks waiting for a worker.",
                    static_cast<double>(queue_.size()));
    metrics::append(out, "shortener_sse_clients", "gauge", "Connected live-feed subscribers.",
                    static_cast<double>(live_.subscribers()));
  }

  void stop(ClickWorkers* workers, std::chrono::steady_clock::time_point deadline) override {
    queue_.close();
    if (workers->drain_and_stop(deadline)) return;
    auto left = queue_.take_all();
    auto spooled = write_spool(data_dir_ / "clicks.spool", left);
    if (spooled)
      spdlog::warn("spooled {} unprocessed clicks for the next start", left.size());
    else
      spdlog::error("could not spool {} clicks: {}", left.size(), spooled.error().detail);
  }

 private:
  std::filesystem::path data_dir_;
  MemoryLinkCache cache_;
  MemoryRateLimiter limiter_;
  MemoryClickQueue queue_;
  MemoryLiveFeed live_;
};

// Production mode: L1 in front of Redis, rate limits and the click stream in Redis (spooled to
// the data dir while Redis is down), live clicks fanned in over Redis pub/sub.
class RedisBackplane final : public Backplane {
 public:
  RedisBackplane(const ServeConfig& config, const RedisConfig& redis)
      : client_(redis, static_cast<std::size_t>(std::max(4, 2 * config.threads) +
                                                config.worker_threads + 4)),
        l2_(client_, redis_cache_options(config.redis_prefix)),
        cache_([l1 = l1_options(config)] { return std::make_unique<MemoryLinkCache>(l1); }, l2_,
               redis),
        limiter_(client_, config.anon_rate_limit, redis_rate_limit_prefix(config.redis_prefix)),
        stream_(client_, redis_queue_options(config.redis_prefix)),
        spooling_(stream_, config.store.data_dir / "clicks-redis.spool"),
        live_(client_, redis, local_live_, redis_live_options(config.redis_prefix)),
        salts_(client_, config.redis_prefix),
        with_worker_(config.with_worker) {}

  LinkCache& cache() override { return cache_; }
  RateLimiter& limiter() override { return limiter_; }
  ClickQueue& queue() override { return spooling_; }
  ClickQueue* worker_queue() override { return with_worker_ ? &stream_ : nullptr; }
  LiveFeed& live() override { return live_; }
  SharedSalts* shared_salts() override { return &salts_; }

  void start() override {
    if (auto group = stream_.ensure_group(); !group)
      spdlog::warn("redis: click stream not ready yet ({}); retried on use", group.error().detail);
    cache_.start();
    spooling_.start();
    live_.start();
  }

  std::string degraded() const override {
    if (!client_.available()) return "redis unavailable: clicks are spooled locally";
    if (!cache_.subscribed()) return "redis invalidation channel not subscribed";
    return {};
  }

  void render_metrics(std::string& out) const override {
    cache_.visit_l1([&out](const LinkCache& l1) {
      if (const auto* memory = dynamic_cast<const MemoryLinkCache*>(&l1))
        render_l1(out, memory->counters());
    });
    auto tiered = cache_.counters();
    metrics::append(out, "shortener_cache_redis_hits_total", "counter",
                    "L1 misses answered by Redis (negative entries included).",
                    static_cast<double>(tiered.l2_hits + tiered.l2_negative_hits));
    metrics::append(out, "shortener_cache_redis_misses_total", "counter",
                    "Lookups neither cache level answered (read from the database).",
                    static_cast<double>(tiered.misses));
    metrics::append(out, "shortener_cache_prefetch_batches_total", "counter",
                    "Redis round trips of the redirect prefetcher (one per batch of L1 misses).",
                    static_cast<double>(tiered.prefetch.batches));
    metrics::append(out, "shortener_cache_prefetch_slugs_total", "counter",
                    "Distinct slugs the redirect prefetcher looked up in Redis.",
                    static_cast<double>(tiered.prefetch.requests));
    metrics::append(out, "shortener_cache_prefetch_declined_total", "counter",
                    "L1 misses the prefetcher declined (queue full or stopping): served by the "
                    "blocking pool instead.",
                    static_cast<double>(tiered.prefetch.rejected));
    metrics::append(out, "shortener_cache_invalidations_received_total", "counter",
                    "Invalidation messages received from any replica.",
                    static_cast<double>(tiered.invalidations_received));
    metrics::append(out, "shortener_cache_l1_flushes_total", "counter",
                    "L1 caches replaced after a Redis (re)subscription.",
                    static_cast<double>(tiered.l1_flushes));
    render_redis_client(out, client_, client_.available());
    metrics::append(out, "shortener_click_stream_over_alarm", "gauge",
                    "1 while the click stream is longer than its alarm length (workers behind).",
                    stream_.over_alarm() ? 1 : 0);
    metrics::append(out, "shortener_clicks_spooled", "gauge",
                    "Clicks in the local spool, waiting for Redis.",
                    static_cast<double>(spooling_.spooled()));
    auto queue = stream_.counters();
    metrics::append(out, "shortener_click_stream_pushed_total", "counter",
                    "Clicks appended to the Redis stream.", static_cast<double>(queue.pushed));
    metrics::append(out, "shortener_click_queue_length", "gauge",
                    "Clicks in the Redis click stream (queued and in flight).",
                    static_cast<double>(stream_.size()));
    metrics::append(out, "shortener_sse_clients", "gauge", "Connected live-feed subscribers.",
                    static_cast<double>(local_live_.subscribers()));
  }

  void stop(ClickWorkers* workers, std::chrono::steady_clock::time_point deadline) override {
    if (workers != nullptr) stop_stream_consumers(stream_, *workers, deadline);
    spooling_.stop();
    live_.stop();
    cache_.stop();
  }

 private:
  RedisClient client_;
  RedisLinkCache l2_;
  TieredLinkCache cache_;
  RedisRateLimiter limiter_;
  RedisClickQueue stream_;
  SpoolingClickQueue spooling_;
  MemoryLiveFeed local_live_;
  RedisLiveFeed live_;
  RedisSharedSalts salts_;
  bool with_worker_;
};

}  // namespace

std::unique_ptr<Backplane> make_embedded_backplane(const ServeConfig& config) {
  return std::make_unique<EmbeddedBackplane>(config);
}

Result<std::unique_ptr<Backplane>> make_redis_backplane(const ServeConfig& config) {
  auto redis = parse_redis_url(config.redis_url);
  if (!redis) return std::unexpected(redis.error());
  spdlog::info("production mode: Redis at {}", redacted_url(*redis));
  return std::make_unique<RedisBackplane>(config, *redis);
}

}  // namespace shortener
