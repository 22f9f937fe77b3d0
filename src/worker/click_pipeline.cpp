#include "worker/click_pipeline.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace shortener {

namespace {
// The shipper holds on to events the queue refused up to this many, then drops (counted).
constexpr std::size_t kMaxPendingShip = 1'000'000;
// Click workers run at a lower CPU priority than the threads serving redirects.
constexpr int kWorkerNice = 10;
}  // namespace

ClickShipper::ClickShipper(ClickBuffer& buffer, ClickQueue& queue,
                           std::chrono::milliseconds interval)
    : buffer_(buffer), queue_(queue), interval_(interval) {}

ClickShipper::~ClickShipper() {
  stop();
}

void ClickShipper::start() {
  thread_ = std::thread([this] { run(); });
}

void ClickShipper::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClickShipper::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    lock.unlock();
    ship_once();
    lock.lock();
  }
  lock.unlock();
  ship_once();  // the final drain: everything redirected before stop() is handed over
}

void ClickShipper::ship_once() {
  buffer_.drain(pending_);
  if (pending_.empty()) return;
  std::size_t n = pending_.size();
  if (auto pushed = queue_.push(std::move(pending_)); pushed) {
    shipped_.fetch_add(n, std::memory_order_relaxed);
    return;
  }
  // The queue refused (full or unavailable): push() took nothing, keep the events for the
  // next round, dropping the oldest beyond the bound so memory stays bounded.
  if (pending_.size() > kMaxPendingShip) {
    std::size_t excess = pending_.size() - kMaxPendingShip;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(excess));
    dropped_.fetch_add(excess, std::memory_order_relaxed);
  }
}

ClickWorkers::ClickWorkers(ClickQueue& queue, Enricher& enricher, ClickStore& store, LiveFeed& live,
                           ClickWorkerOptions options)
    : queue_(queue), enricher_(enricher), store_(store), live_(live), options_(options) {}

ClickWorkers::~ClickWorkers() {
  if (!threads_.empty()) drain_and_stop(std::chrono::steady_clock::now());
}

void ClickWorkers::start() {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    ++running_;
    threads_.emplace_back([this] {
      run();
      --running_;
    });
  }
}

bool ClickWorkers::drain_and_stop(std::chrono::steady_clock::time_point deadline) {
  // A worker finishing its last batch gets this much beyond the deadline.
  constexpr auto kGrace = std::chrono::milliseconds(300);
  draining_ = true;
  while (queue_.size() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop_now_ = true;
  auto give_up = std::max(deadline, std::chrono::steady_clock::now()) + kGrace;
  while (running_ > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stuck_ = running_ > 0;
  for (auto& thread : threads_) {
    if (stuck_)
      thread.detach();
    else if (thread.joinable())
      thread.join();
  }
  threads_.clear();
  return queue_.size() == 0;
}

void ClickWorkers::run() {
  // Redirects come first: under saturation the kernel runs I/O threads before enrichment, and
  // clicks wait in the (bounded, counted) queue instead of slowing redirects down.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWorkerNice);
  auto backoff = std::chrono::milliseconds(0);
  auto wait = [&] {
    backoff = std::min(options_.max_backoff, std::max(std::chrono::milliseconds(50), backoff * 2));
    // Sleep in small steps so shutdown is not held up by a long backoff.
    for (auto slept = std::chrono::milliseconds(0); slept < backoff && !stop_now_;
         slept += std::chrono::milliseconds(10))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  while (!stop_now_) {
    auto delivery = queue_.pop(options_.batch_max, options_.batch_wait);
    if (!delivery || delivery->events.empty()) continue;
    for (;;) {
      auto outcome = process(*delivery);
      if (outcome == Outcome::stored) {
        backoff = std::chrono::milliseconds(0);
        break;
      }
      // The store is unreachable: keep the batch and try it again, so an outage costs time
      // but no delivery attempts (those lead to the dead-letter stream). Other failures, or
      // shutdown, hand the batch back to the queue.
      if (outcome == Outcome::unavailable && !stop_now_) {
        wait();
        continue;
      }
      queue_.nack(std::move(*delivery));
      wait();
      break;
    }
  }
}

ClickWorkers::Outcome ClickWorkers::process(ClickDelivery& delivery) {
  std::vector<EnrichedClick> clicks;
  clicks.reserve(delivery.events.size());
  for (const ClickEvent& event : delivery.events) clicks.push_back(enricher_.enrich(event));
  auto started = std::chrono::steady_clock::now();
  auto written = store_.write(clicks);
  if (options_.on_batch)
    options_.on_batch(delivery.events.size(), std::chrono::steady_clock::now() - started);
  if (!written) {
    // The first failure of a run is logged; the rest are counted (shortener_click_store_
    // failures_total) until a write succeeds again, which is logged too.
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (!failing_.exchange(true))
      spdlog::warn("click store write failed ({} clicks, retried): {}", clicks.size(),
                   written.error().detail);
    return written.error().code == Errc::unavailable ? Outcome::unavailable : Outcome::failed;
  }
  if (failing_.load(std::memory_order_relaxed) && failing_.exchange(false))
    spdlog::info("click store writes succeed again");
  queue_.ack(delivery);
  processed_.fetch_add(written->inserted, std::memory_order_relaxed);
  duplicates_.fetch_add(written->duplicates, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  live_.publish(clicks);  // store removed duplicates: subscribers see each click once
  return Outcome::stored;
}

ClickWorkerCounters ClickWorkers::counters() const {
  return {processed_.load(), duplicates_.load(), failures_.load(), batches_.load()};
}

}  // namespace shortener
