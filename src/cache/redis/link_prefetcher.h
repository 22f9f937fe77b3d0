// Batches the event loop's L1 misses into one lookup per batch on a thread of its own.
//
// A redirect whose link is not in the L1 used to go to the HTTP server's blocking pool, which
// asked Redis and handed the answer back: two thread hand-offs and one round trip per request,
// ~40 µs of CPU, most of it context switches. Here the I/O thread only queues the slug; this
// thread takes everything queued (up to `max_batch`), fetches it with one pipelined round trip
// (the `fetch` function: TieredLinkCache::warm, which also puts what Redis holds into the L1),
// and completes every request of the batch with its lookup. Under load a batch holds many requests,
// so the hand-offs and the round trip are shared by all of them; when idle a request costs what it
// did before.
//
// Every submitted `done` runs exactly once: after its batch, or at once when the queue is
// full (`max_queue`) or the prefetcher is stopped (with a miss: the caller takes its usual
// path). It runs on this thread (or on the submitter's, in the immediate cases): it must only
// hand the result over, e.g. post it to an event loop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/ports.h"

namespace shortener {

struct LinkPrefetcherCounters {
  std::uint64_t batches = 0;   // fetches run
  std::uint64_t requests = 0;  // slugs fetched (a batch asks for each distinct slug once)
  std::uint64_t rejected = 0;  // completed at once: queue full or stopped
};

class LinkPrefetcher {
 public:
  using Done = LinkCache::PrefetchDone;
  // Looks up a batch of distinct slugs: one lookup per slug, in order (a miss where it cannot
  // tell). Runs on the prefetcher's thread.
  using Fetch = std::function<std::vector<LinkCache::Lookup>(std::span<const std::string> slugs)>;

  explicit LinkPrefetcher(Fetch fetch, std::size_t max_batch = 128, std::size_t max_queue = 4096);
  ~LinkPrefetcher();
  LinkPrefetcher(const LinkPrefetcher&) = delete;
  LinkPrefetcher& operator=(const LinkPrefetcher&) = delete;

  void start();
  // Idempotent. Requests still queued complete with done(false); joins the thread.
  void stop();

  void submit(std::string_view slug, Done done);
  LinkPrefetcherCounters counters() const;

 private:
  struct Request {
    std::string slug;
    Done done;
  };
  void run();
  void fetch_batch(std::vector<Request>& batch);

  Fetch fetch_;
  std::size_t max_batch_, max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Request> queue_;
  bool running_ = false, stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> batches_{0}, requests_{0}, rejected_{0};
};

}  // namespace shortener
