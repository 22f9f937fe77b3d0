// Runs the cache, rate limiter, click queue and live feed contracts against the in-process
// adapters of the embedded default. One process is one replica: both "replicas" are the same
// object.
#include <gtest/gtest.h>

#include <memory>

#include "adapter_factories.h"
#include "cache/memory/memory_link_cache.h"
#include "cache/memory/memory_rate_limiter.h"
#include "live/memory/memory_live_feed.h"
#include "queue/memory/memory_click_queue.h"

namespace shortener::contract {
namespace {

template <class Port, class Adapter, class... Args>
PortFactory<Port> single_process(Args... args) {
  return PortFactory<Port>{
      .name = "in_process",
      .make =
          [args...] {
            auto adapter = std::make_shared<Adapter>(args...);
            return Replicas<Port>{.backend = nullptr, .a = adapter, .b = adapter};
          },
  };
}

INSTANTIATE_TEST_SUITE_P(Memory, LinkCacheContract,
                         testing::Values(single_process<LinkCache, MemoryLinkCache>()),
                         port_factory_name<LinkCache>);
INSTANTIATE_TEST_SUITE_P(
    Memory, RateLimiterContract,
    testing::Values(single_process<RateLimiter, MemoryRateLimiter>(kContractPerMinute)),
    port_factory_name<RateLimiter>);
INSTANTIATE_TEST_SUITE_P(Memory, ClickQueueContract,
                         testing::Values(single_process<ClickQueue, MemoryClickQueue>()),
                         port_factory_name<ClickQueue>);
INSTANTIATE_TEST_SUITE_P(Memory, LiveFeedContract,
                         testing::Values(single_process<LiveFeed, MemoryLiveFeed>()),
                         port_factory_name<LiveFeed>);

}  // namespace
}  // namespace shortener::contract
