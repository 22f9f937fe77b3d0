// How the cache, rate limiter, click queue and live feed adapters join their contract suites
// (link_cache_contract.cpp, rate_limiter_contract.cpp, click_queue_contract.cpp,
// live_feed_contract.cpp). An adapter's <adapter>_contract.cpp builds a PortFactory per port
// and instantiates the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, LinkCacheContract, testing::Values(memory_cache()),
//                            port_factory_name<LinkCache>);
//
// Every factory makes two "replicas" over one backend, so the suites can say what a second
// serve replica or worker process sees. For an in-process adapter both are the same object.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "core/click_ports.h"
#include "core/ports.h"
#include "core/rate_limiter.h"

namespace shortener::contract {

// Rate limiter factories build limiters admitting this many per minute, so the suite knows
// the burst and the wait.
inline constexpr int kContractPerMinute = 5;

template <class Port>
struct Replicas {
  std::shared_ptr<void> backend;  // declared first, destroyed last: what the replicas share
  std::shared_ptr<Port> a;
  std::shared_ptr<Port> b;
  std::string skip;  // non-empty (and no replicas): skip the test with this message
};

template <class Port>
struct PortFactory {
  std::string name;                      // the test name suffix: letters, digits and '_' only
  std::function<Replicas<Port>()> make;  // called once per test, fresh state every time
};

template <class Port>
void PrintTo(const PortFactory<Port>& factory, std::ostream* out) {
  *out << factory.name;
}

template <class Port>
std::string port_factory_name(const testing::TestParamInfo<PortFactory<Port>>& info) {
  return info.param.name;
}

template <class Port>
class PortContract : public testing::TestWithParam<PortFactory<Port>> {
 protected:
  void SetUp() override {
    replicas_ = this->GetParam().make();
    if (!replicas_.skip.empty()) GTEST_SKIP() << replicas_.skip;
    ASSERT_NE(replicas_.a, nullptr);
    ASSERT_NE(replicas_.b, nullptr);
  }
  Port& a() { return *replicas_.a; }
  Port& b() { return *replicas_.b; }

  Replicas<Port> replicas_;
};

class LinkCacheContract : public PortContract<LinkCache> {};
class RateLimiterContract : public PortContract<RateLimiter> {};
class ClickQueueContract : public PortContract<ClickQueue> {};
class LiveFeedContract : public PortContract<LiveFeed> {};

// Polls `done` until it holds or `limit` passes: for what crosses processes asynchronously.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace shortener::contract
