// Runs the cache, rate limiter, click queue and live feed contracts against the Redis adapters,
// on the server named by SHORTENER_TEST_REDIS_URL (see redis_test_env.h). Each replica gets its
// own RedisClient, as a separate process would; every test gets fresh key, stream and channel
// names.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "adapter_factories.h"
#include "cache/memory/memory_link_cache.h"
#include "cache/redis/redis_link_cache.h"
#include "cache/redis/redis_rate_limiter.h"
#include "cache/redis/tiered_link_cache.h"
#include "live/memory/memory_live_feed.h"
#include "live/redis/redis_live_feed.h"
#include "queue/redis/redis_click_queue.h"
#include "redis_test_env.h"

namespace shortener::contract {
namespace {

// What the replicas hang on; destroyed after them (Replicas::backend).
struct Backend {
  ~Backend() {
    while (!parts.empty()) parts.pop_back();  // newest first: users before what they use
  }
  std::vector<std::shared_ptr<void>> parts;
  template <class T>
  T& keep(std::shared_ptr<T> part) {
    parts.push_back(part);
    return *part;
  }
};

template <class Port>
Replicas<Port> no_server() {
  if (redis_required()) {
    ADD_FAILURE() << kNoRedis << " (SHORTENER_REQUIRE_REDIS=1)";
    return {};
  }
  return Replicas<Port>{.skip = kNoRedis};
}

// Subscribers must be listening before a test publishes: pub/sub keeps nothing.
template <class Subscribing>
void await_subscribed(const Subscribing& replica) {
  if (!eventually([&] { return replica.subscribed(); }, std::chrono::milliseconds(5000)))
    ADD_FAILURE() << "the Redis subscriber did not subscribe within 5 s";
}

RedisLinkCacheOptions cache_options(const std::string& name) {
  return RedisLinkCacheOptions{.key_prefix = name + ":link:",
                               .version_prefix = name + ":link-version:",
                               .channel = name + ":link-invalidations"};
}

PortFactory<LinkCache> redis_l2() {
  return {.name = "l2_only", .make = [] {
            auto config = test_redis();
            if (!config) return no_server<LinkCache>();
            auto backend = std::make_shared<Backend>();
            auto options = cache_options(unique_name("cache"));
            auto replica = [&] {
              auto& client = backend->keep(std::make_shared<RedisClient>(*config, 2));
              return std::make_shared<RedisLinkCache>(client, options);
            };
            return Replicas<LinkCache>{.backend = backend, .a = replica(), .b = replica()};
          }};
}

PortFactory<LinkCache> redis_tiered() {
  return {.name = "l1_and_l2", .make = [] {
            auto config = test_redis();
            if (!config) return no_server<LinkCache>();
            auto backend = std::make_shared<Backend>();
            auto options = cache_options(unique_name("cache"));
            auto replica = [&] {
              auto& client = backend->keep(std::make_shared<RedisClient>(*config, 2));
              auto& l2 = backend->keep(std::make_shared<RedisLinkCache>(client, options));
              auto tiered = std::make_shared<TieredLinkCache>(
                  [] { return std::make_unique<MemoryLinkCache>(); }, l2, *config);
              tiered->start();
              await_subscribed(*tiered);
              return tiered;
            };
            return Replicas<LinkCache>{.backend = backend, .a = replica(), .b = replica()};
          }};
}

PortFactory<RateLimiter> redis_limiter() {
  return {.name = "shared", .make = [] {
            auto config = test_redis();
            if (!config) return no_server<RateLimiter>();
            auto backend = std::make_shared<Backend>();
            std::string prefix = unique_name("ratelimit") + ":";
            auto replica = [&] {
              auto& client = backend->keep(std::make_shared<RedisClient>(*config, 2));
              return std::make_shared<RedisRateLimiter>(client, kContractPerMinute, prefix);
            };
            return Replicas<RateLimiter>{.backend = backend, .a = replica(), .b = replica()};
          }};
}

PortFactory<ClickQueue> redis_queue() {
  return {.name = "stream", .make = [] {
            auto config = test_redis();
            if (!config) return no_server<ClickQueue>();
            auto backend = std::make_shared<Backend>();
            std::string stream = unique_name("clicks");
            auto replica = [&](const char* consumer) {
              auto& client = backend->keep(std::make_shared<RedisClient>(*config, 3));
              return std::make_shared<RedisClickQueue>(
                  client, RedisClickQueueOptions{.stream = stream,
                                                 .dead_stream = stream + ":dead",
                                                 .consumer = consumer,
                                                 .length_refresh = std::chrono::milliseconds(0)});
            };
            auto a = replica("a");
            if (auto created = a->ensure_group(); !created) ADD_FAILURE() << created.error().detail;
            return Replicas<ClickQueue>{.backend = backend, .a = a, .b = replica("b")};
          }};
}

PortFactory<LiveFeed> redis_live() {
  return {.name = "pubsub", .make = [] {
            auto config = test_redis();
            if (!config) return no_server<LiveFeed>();
            auto backend = std::make_shared<Backend>();
            std::string channel = unique_name("live-clicks");
            auto replica = [&] {
              auto& client = backend->keep(std::make_shared<RedisClient>(*config, 2));
              auto& local = backend->keep(std::make_shared<MemoryLiveFeed>());
              auto feed = std::make_shared<RedisLiveFeed>(client, *config, local,
                                                          RedisLiveFeedOptions{.channel = channel});
              feed->start();
              await_subscribed(*feed);
              return feed;
            };
            return Replicas<LiveFeed>{.backend = backend, .a = replica(), .b = replica()};
          }};
}

INSTANTIATE_TEST_SUITE_P(Redis, LinkCacheContract, testing::Values(redis_l2(), redis_tiered()),
                         port_factory_name<LinkCache>);
INSTANTIATE_TEST_SUITE_P(Redis, RateLimiterContract, testing::Values(redis_limiter()),
                         port_factory_name<RateLimiter>);
INSTANTIATE_TEST_SUITE_P(Redis, ClickQueueContract, testing::Values(redis_queue()),
                         port_factory_name<ClickQueue>);
INSTANTIATE_TEST_SUITE_P(Redis, LiveFeedContract, testing::Values(redis_live()),
                         port_factory_name<LiveFeed>);

}  // namespace
}  // namespace shortener::contract
