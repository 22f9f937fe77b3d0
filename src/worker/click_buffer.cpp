#include "worker/click_buffer.h"

#include <functional>
#include <thread>

namespace shortener {

ClickBuffer::ClickBuffer(std::size_t capacity, std::size_t shards)
    : per_shard_(std::max<std::size_t>(capacity / std::max<std::size_t>(shards, 1), 1)),
      shards_(std::max<std::size_t>(shards, 1)) {}

bool ClickBuffer::offer(ClickEvent&& event) {
  // One shard per thread (by id hash): request threads do not contend with each other.
  thread_local std::size_t index = std::hash<std::thread::id>{}(std::this_thread::get_id());
  Shard& shard = shards_[index % shards_.size()];
  {
    std::lock_guard lock(shard.mutex);
    if (shard.events.size() < per_shard_) {
      shard.events.push_back(std::move(event));
      shard.accepted.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::uint64_t ClickBuffer::accepted() const {
  std::uint64_t total = 0;
  for (const Shard& shard : shards_) total += shard.accepted.load(std::memory_order_relaxed);
  return total;
}

void ClickBuffer::drain(std::vector<ClickEvent>& out) {
  std::vector<ClickEvent> taken;
  for (Shard& shard : shards_) {
    {
      std::lock_guard lock(shard.mutex);
      taken.swap(shard.events);
      shard.events.reserve(std::min<std::size_t>(per_shard_, 1024));
    }
    for (auto& event : taken) out.push_back(std::move(event));
    taken.clear();
  }
}

}  // namespace shortener
