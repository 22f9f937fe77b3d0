// The click pipeline after the redirect (design):
//
//   ClickBuffer --(ClickShipper, every few ms)--> ClickQueue --(ClickWorkers)--> enrich
//        --> ClickStore.write (raw + rollups, one transaction, idempotent by event id)
//        --> LiveFeed.publish (only newly stored clicks) --> ClickQueue.ack
//
// A failed write puts the batch back (nack) and backs off; nothing is acknowledged before it is
// stored. At shutdown the shipper drains the buffer one last time, the queue closes, and the
// workers process what is left until the queue is empty or the drain deadline passes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/click_ports.h"
#include "worker/click_buffer.h"

namespace shortener {

// Turns a raw event into the stored form (geo, device, bot, referrer, visitor hash).
class Enricher {
 public:
  virtual ~Enricher() = default;
  virtual EnrichedClick enrich(const ClickEvent& event) = 0;
};

class ClickShipper {
 public:
  ClickShipper(ClickBuffer& buffer, ClickQueue& queue,
               std::chrono::milliseconds interval = std::chrono::milliseconds(5));
  ~ClickShipper();
  void start();
  // Stops the thread after one final drain of the buffer into the queue.
  void stop();
  std::uint64_t shipped() const { return shipped_.load(std::memory_order_relaxed); }
  // Events lost because the queue refused them for longer than the buffer could hold.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run();
  void ship_once();

  ClickBuffer& buffer_;
  ClickQueue& queue_;
  std::chrono::milliseconds interval_;
  std::vector<ClickEvent> pending_;  // taken from the buffer, not yet accepted by the queue
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> shipped_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

struct ClickWorkerOptions {
  int threads = 2;
  std::size_t batch_max = 1000;                 // events per store transaction
  std::chrono::milliseconds batch_wait{50};     // wait for the first event of a batch
  std::chrono::milliseconds max_backoff{5000};  // store failing: retry at most this late
  // Told about every stored batch (for metrics): its events and the store's write time. Runs
  // on worker threads; may be empty.
  std::function<void(std::size_t events, std::chrono::nanoseconds store_time)> on_batch;
};

struct ClickWorkerCounters {
  std::uint64_t processed = 0;   // newly stored
  std::uint64_t duplicates = 0;  // already stored (redelivery, replay)
  std::uint64_t failures = 0;    // failed store writes (batches retried)
  std::uint64_t batches = 0;
};

class ClickWorkers {
 public:
  ClickWorkers(ClickQueue& queue, Enricher& enricher, ClickStore& store, LiveFeed& live,
               ClickWorkerOptions options = {});
  ~ClickWorkers();
  void start();
  // Processes until the queue is empty (the caller has closed it) or `deadline` passes, then
  // stops the threads. Returns true when everything was drained. A thread still stuck in the
  // store (e.g. waiting on a lock held by another process) a moment after the deadline is
  // abandoned: stuck() turns true and the caller must spool and exit without destroying the
  // store (anything that thread commits later is deduplicated by event id at replay).
  bool drain_and_stop(std::chrono::steady_clock::time_point deadline);
  bool stuck() const { return stuck_; }
  ClickWorkerCounters counters() const;

 private:
  enum class Outcome { stored, unavailable, failed };
  void run();
  Outcome process(ClickDelivery& delivery);

  ClickQueue& queue_;
  Enricher& enricher_;
  ClickStore& store_;
  LiveFeed& live_;
  ClickWorkerOptions options_;
  std::vector<std::thread> threads_;
  std::atomic<bool> draining_{false};
  std::atomic<int> running_{0};
  bool stuck_ = false;
  std::atomic<bool> stop_now_{false};
  std::atomic<bool> failing_{false};  // a write failed and none succeeded since (logged once)
  std::atomic<std::uint64_t> processed_{0}, duplicates_{0}, failures_{0}, batches_{0};
};

}  // namespace shortener
