// The embedded default's ClickQueue: an in-process bounded queue between the shipper and the
// worker threads. Deliveries are tracked until acked, so a failed batch can be put back.
// At shutdown what could not be processed is written to a spool file in the data dir and
// replayed at the next start (see spool.h); ids make the replay idempotent.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/click_ports.h"

namespace shortener {

class MemoryClickQueue final : public ClickQueue {
 public:
  // capacity: events held before push() answers Errc::unavailable (the shipper then keeps
  // them and eventually drops, counted).
  explicit MemoryClickQueue(std::size_t capacity = 2'000'000);

  Result<void> push(std::vector<ClickEvent>&& events) override;
  Result<ClickDelivery> pop(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(const ClickDelivery& delivery) override;
  void nack(ClickDelivery delivery) override;
  std::size_t size() const override;

  // No more pushes; pop() returns empty once drained instead of waiting.
  void close();
  // Every queued and unacknowledged event, removed from the queue (for the spool).
  std::vector<ClickEvent> take_all();
  // Runs `callback` once (on the acking thread) when queue and in-flight set are both empty.
  void on_drained(std::function<void()> callback);

 private:
  void check_drained(std::unique_lock<std::mutex>& lock);

  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ClickEvent> events_;
  std::map<std::uint64_t, std::vector<ClickEvent>> in_flight_;
  std::uint64_t next_token_ = 1;
  bool closed_ = false;
  std::function<void()> drained_;
};

// Spool files: length-prefixed binary records, versioned. Written atomically (temp + rename).
Result<void> write_spool(const std::filesystem::path& path, const std::vector<ClickEvent>& events);
Result<std::vector<ClickEvent>> read_spool(const std::filesystem::path& path);

}  // namespace shortener
