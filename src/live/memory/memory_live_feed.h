// In-process LiveFeed: publish() hands each stored click to every matching subscriber's bounded
// queue and wakes it. A subscriber that falls more than `max_pending` events behind is dropped
// (its SSE stream ends; the client reconnects with Last-Event-ID) instead of buffering without
// bound. Recent events are remembered for such resumes only while someone could resume: while
// there are subscribers, and for `resume_window` after the last one left (or after start, for
// dashboards moving over from a replica that stopped). Otherwise publish() does nothing, so a
// replica nobody watches does not copy every click.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "core/click_ports.h"

namespace shortener {

class MemoryLiveFeed final : public LiveFeed {
 public:
  // max_pending: per subscriber; history: recent events kept for Last-Event-ID resumes.
  explicit MemoryLiveFeed(std::size_t max_pending = 1024, std::size_t history = 1024,
                          std::chrono::seconds resume_window = std::chrono::seconds(60))
      : max_pending_(max_pending),
        history_limit_(history),
        resume_window_(resume_window),
        last_left_(std::chrono::steady_clock::now()) {}
  void publish(const std::vector<EnrichedClick>& clicks) override;
  std::unique_ptr<LiveSubscription> subscribe(LiveFilter filter, std::function<void()> wake,
                                              std::string_view last_event_id = {}) override;
  std::size_t subscribers() const;
  // Whether publish() keeps what it is given: someone subscribes, or could resume.
  bool listened() const;

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
  std::chrono::seconds resume_window_;
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point last_left_;  // start, or when the last subscriber left
  std::deque<std::shared_ptr<const EnrichedClick>> history_;  // ids ascend (ULIDs, in order)
  std::unordered_set<std::shared_ptr<Subscriber>> subscribers_;
};

}  // namespace shortener
