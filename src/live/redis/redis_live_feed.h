// LiveFeed across processes: workers publish stored clicks on the Redis channel `live-clicks`,
// and every replica's subscriber thread hands what arrives to its local feed, where the SSE
// connections of that replica are subscribed. So a dashboard connected to replica A sees clicks
// redirected by replica B and stored by any worker.
//
//   publish(batch) -> PUBLISH live-clicks <batch>: one message per stored batch, one round trip.
//   subscriber     -> decode -> local.publish(batch) -> per-subscriber filters, bounds, wakes.
//   subscribe()    -> local.subscribe(): Last-Event-ID history is the local feed's.
//
// Live delivery is best effort, like the in-process feed: when Redis is down a batch is handed
// to the local feed directly (this process's subscribers still see it), and clicks published
// while a subscriber thread is reconnecting are not seen live (they are in the stats).
// The payload carries every enriched field except the visitor hash and the IP prefix: the
// channel is readable by anything that can reach Redis, and no live view needs either.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "core/click_ports.h"
#include "live/memory/memory_live_feed.h"
#include "redis/redis_client.h"
#include "redis/redis_subscriber.h"

namespace shortener {

struct RedisLiveFeedOptions {
  std::string channel = "live-clicks";
  std::chrono::milliseconds ping_interval{1000};  // subscriber liveness check
};

struct RedisLiveFeedCounters {
  std::uint64_t published = 0, publish_failures = 0, received = 0, undecodable = 0;
  std::uint64_t ignored = 0;  // messages that arrived while nobody listened (not decoded)
};

class RedisLiveFeed final : public LiveFeed {
 public:
  // `local`: this process's in-process feed; it must outlive this object. Call start() so
  // clicks from other processes arrive. A message arriving while `local` is not listened()
  // to is counted and left undecoded.
  RedisLiveFeed(RedisClient& client, RedisConfig subscriber_config, MemoryLiveFeed& local,
                RedisLiveFeedOptions options = {});
  ~RedisLiveFeed() override;

  void start();
  void stop();  // idempotent

  void publish(const std::vector<EnrichedClick>& clicks) override;
  std::unique_ptr<LiveSubscription> subscribe(LiveFilter filter, std::function<void()> wake,
                                              std::string_view last_event_id = {}) override {
    return local_.subscribe(filter, std::move(wake), last_event_id);
  }

  bool subscribed() const { return subscriber_.subscribed(); }
  RedisLiveFeedCounters counters() const;

 private:
  void on_message(std::string_view payload);

  RedisClient& client_;
  MemoryLiveFeed& local_;
  RedisLiveFeedOptions options_;
  std::atomic<std::uint64_t> published_{0}, publish_failures_{0}, received_{0}, undecodable_{0},
      ignored_{0};
  RedisSubscriber subscriber_;  // last: its thread calls into the members above
};

// The channel's payload: a versioned binary batch of clicks.
std::string encode_live_clicks(const std::vector<EnrichedClick>& clicks);
std::optional<std::vector<EnrichedClick>> decode_live_clicks(std::string_view payload);

}  // namespace shortener
