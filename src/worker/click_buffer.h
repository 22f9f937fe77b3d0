// The redirect's hand-off point (ClickSink): a bounded in-process buffer, sharded so request
// threads rarely contend, drained by the ClickShipper. offer() never blocks and does no I/O;
// when the buffer is full the click is dropped and counted (clicks_dropped), never silently.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/click_ports.h"

namespace shortener {

class ClickBuffer final : public ClickSink {
 public:
  // `capacity` events in total (split over shards): at 50k redirects/s, 65,536 is >1 s of
  // slack for the shipper, which drains every few milliseconds.
  explicit ClickBuffer(std::size_t capacity = 65536, std::size_t shards = 8);

  bool offer(ClickEvent&& event) override;
  // Moves everything buffered into `out` (appends). Called by the shipper.
  void drain(std::vector<ClickEvent>& out);

  std::uint64_t accepted() const;
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  // Counted per shard, beside its lock: one counter shared by every request thread would move
  // its cache line between cores on every redirect.
  struct alignas(64) Shard {
    std::mutex mutex;
    std::vector<ClickEvent> events;
    std::atomic<std::uint64_t> accepted{0};
  };
  std::size_t per_shard_;
  std::vector<Shard> shards_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace shortener
