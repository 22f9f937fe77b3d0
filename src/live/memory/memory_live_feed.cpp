#include "live/memory/memory_live_feed.h"

namespace shortener {

class MemoryLiveFeed::Subscription final : public LiveSubscription {
 public:
  Subscription(MemoryLiveFeed& feed, std::shared_ptr<Subscriber> subscriber)
      : feed_(feed), subscriber_(std::move(subscriber)) {}
  ~Subscription() override { feed_.unsubscribe(subscriber_); }

  std::vector<std::shared_ptr<const EnrichedClick>> drain() override {
    std::lock_guard lock(subscriber_->mutex);
    std::vector<std::shared_ptr<const EnrichedClick>> out(subscriber_->pending.begin(),
                                                          subscriber_->pending.end());
    subscriber_->pending.clear();
    return out;
  }
  bool dropped() const override {
    std::lock_guard lock(subscriber_->mutex);
    return subscriber_->dropped;
  }

 private:
  MemoryLiveFeed& feed_;
  std::shared_ptr<Subscriber> subscriber_;
};

bool MemoryLiveFeed::listened() const {
  std::lock_guard lock(mutex_);
  return !subscribers_.empty() || std::chrono::steady_clock::now() - last_left_ < resume_window_;
}

void MemoryLiveFeed::publish(const std::vector<EnrichedClick>& clicks) {
  if (clicks.empty() || !listened()) return;
  std::vector<std::shared_ptr<const EnrichedClick>> shared;
  shared.reserve(clicks.size());
  for (const auto& click : clicks) shared.push_back(std::make_shared<const EnrichedClick>(click));
  std::lock_guard lock(mutex_);
  for (const auto& click : shared) {
    history_.push_back(click);
    if (history_.size() > history_limit_) history_.pop_front();
  }
  for (const auto& subscriber : subscribers_) {
    bool woke = false;
    {
      std::lock_guard sub_lock(subscriber->mutex);
      if (subscriber->dropped) continue;
      for (const auto& click : shared) {
        if (!subscriber->filter.matches(*click)) continue;
        if (subscriber->pending.size() >= max_pending_) {
          subscriber->dropped = true;
          subscriber->pending.clear();
          break;
        }
        subscriber->pending.push_back(click);
        woke = true;
      }
      woke = woke || subscriber->dropped;
    }
    if (woke) subscriber->wake();
  }
}

std::unique_ptr<LiveSubscription> MemoryLiveFeed::subscribe(LiveFilter filter,
                                                            std::function<void()> wake,
                                                            std::string_view last_event_id) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->filter = filter;
  subscriber->wake = std::move(wake);
  {
    std::lock_guard lock(mutex_);
    // ULIDs sort by time; workers publish batches in slightly interleaved order, so every
    // remembered event with a greater id is replayed (a resume may repeat none, miss none
    // that is still remembered).
    if (!last_event_id.empty()) {
      for (const auto& click : history_)
        if (click->id > last_event_id && filter.matches(*click) &&
            subscriber->pending.size() < max_pending_)
          subscriber->pending.push_back(click);
    }
    subscribers_.insert(subscriber);
  }
  return std::make_unique<Subscription>(*this, std::move(subscriber));
}

void MemoryLiveFeed::unsubscribe(const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(subscriber);
  if (subscribers_.empty()) last_left_ = std::chrono::steady_clock::now();
}

std::size_t MemoryLiveFeed::subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

}  // namespace shortener
