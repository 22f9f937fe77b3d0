#include "cache/redis/link_prefetcher.h"

#include <algorithm>

namespace shortener {

LinkPrefetcher::LinkPrefetcher(Fetch fetch, std::size_t max_batch, std::size_t max_queue)
    : fetch_(std::move(fetch)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      max_queue_(std::max<std::size_t>(1, max_queue)) {}

LinkPrefetcher::~LinkPrefetcher() {
  stop();
}

void LinkPrefetcher::start() {
  std::lock_guard lock(mutex_);
  if (running_ || stopping_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void LinkPrefetcher::stop() {
  std::deque<Request> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  rejected_.fetch_add(left.size(), std::memory_order_relaxed);
  for (Request& request : left) request.done(LinkCache::Lookup{});
}

void LinkPrefetcher::submit(std::string_view slug, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (running_ && !stopping_ && queue_.size() < max_queue_) {
      bool was_empty = queue_.empty();
      queue_.push_back({std::string(slug), std::move(done)});
      // The thread only sleeps on an empty queue: the first request of a batch wakes it, the
      // rest of the batch arrives while it is busy with the previous one.
      if (was_empty) queued_.notify_one();
      return;
    }
  }
  rejected_.fetch_add(1, std::memory_order_relaxed);
  done(LinkCache::Lookup{});
}

void LinkPrefetcher::run() {
  std::vector<Request> batch;
  batch.reserve(max_batch_);
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;  // stop() completes what is queued
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    fetch_batch(batch);
    batch.clear();
    lock.lock();
  }
}

void LinkPrefetcher::fetch_batch(std::vector<Request>& batch) {
  // Popular links miss together (a fresh L1, a link going viral): ask for each slug once.
  std::vector<std::string> slugs;
  slugs.reserve(batch.size());
  for (const Request& request : batch) slugs.push_back(request.slug);
  std::sort(slugs.begin(), slugs.end());
  slugs.erase(std::unique(slugs.begin(), slugs.end()), slugs.end());
  std::vector<LinkCache::Lookup> lookups;
  try {
    lookups = fetch_(slugs);
  } catch (...) {
    lookups.clear();  // completes the batch with misses: the callers take their usual path
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  requests_.fetch_add(slugs.size(), std::memory_order_relaxed);
  for (Request& request : batch) {
    auto at = std::lower_bound(slugs.begin(), slugs.end(), request.slug) - slugs.begin();
    if (lookups.size() != slugs.size()) {
      request.done(LinkCache::Lookup{});
      continue;
    }
    const LinkCache::Lookup& lookup = lookups[static_cast<std::size_t>(at)];
    request.done(LinkCache::Lookup{lookup.outcome, lookup.link, 0});
  }
}

LinkPrefetcherCounters LinkPrefetcher::counters() const {
  return {batches_.load(std::memory_order_relaxed), requests_.load(std::memory_order_relaxed),
          rejected_.load(std::memory_order_relaxed)};
}

}  // namespace shortener
