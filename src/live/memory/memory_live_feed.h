// In-process LiveFeed: publish() hands each stored click to every matching subscriber's bounded
// queue and wakes it. A subscriber that falls more than `max_pending` events behind is dropped
// (its SSE stream ends; the client reconnects with Last-Event-ID) instead of buffering without
// bound.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "core/click_ports.h"

namespace shortener {

class MemoryLiveFeed final : public LiveFeed {
 public:
  // max_pending: per subscriber; history: recent events kept for Last-Event-ID resumes.
  explicit MemoryLiveFeed(std::size_t max_pending = 1024, std::size_t history = 1024)
      : max_pending_(max_pending), history_limit_(history) {}
  void publish(const std::vector<EnrichedClick>& clicks) override;
  std::unique_ptr<LiveSubscription> subscribe(LiveFilter filter, std::function<void()> wake,
                                              std::string_view last_event_id = {}) override;
  std::size_t subscribers() const;

 private:
  class Subscription;
  struct Subscriber {
    LiveFilter filter;
    std::function<void()> wake;
    std::mutex mutex;
    std::deque<std::shared_ptr<const EnrichedClick>> pending;
    bool dropped = false;
  };
  void unsubscribe(const std::shared_ptr<Subscriber>& subscriber);

  std::size_t max_pending_;
  std::size_t history_limit_;
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const EnrichedClick>> history_;  // ids ascend (ULIDs, in order)
  std::unordered_set<std::shared_ptr<Subscriber>> subscribers_;
};

}  // namespace shortener
