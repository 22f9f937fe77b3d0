// A bounded string-keyed LRU cache split into independently locked shards, so concurrent
// workers rarely contend: a key's hash picks its shard, each shard is a classic list + index.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace shortener::enrich {

template <class Value>
class ShardedLruCache {
 public:
  // `capacity` entries in total (0 disables the cache), spread evenly over `shards`.
  explicit ShardedLruCache(std::size_t capacity, std::size_t shards = 16)
      : shards_(capacity == 0 ? 0 : shards),
        per_shard_(capacity == 0 ? 0 : (capacity + shards - 1) / shards) {}

  std::optional<Value> get(std::string_view key) {
    if (shards_.empty()) return std::nullopt;
    const std::size_t hash = std::hash<std::string_view>{}(key);
    Shard& shard = shards_[hash % shards_.size()];
    std::lock_guard lock(shard.mutex);
    const auto it = shard.index.find(key);
    if (it == shard.index.end()) return std::nullopt;
    shard.order.splice(shard.order.begin(), shard.order, it->second);  // now most recent
    return it->second->second;
  }

  void put(std::string_view key, Value value) {
    if (shards_.empty()) return;
    const std::size_t hash = std::hash<std::string_view>{}(key);
    Shard& shard = shards_[hash % shards_.size()];
    std::lock_guard lock(shard.mutex);
    if (const auto it = shard.index.find(key); it != shard.index.end()) {
      it->second->second = std::move(value);
      shard.order.splice(shard.order.begin(), shard.order, it->second);
      return;
    }
    if (shard.order.size() >= per_shard_) {
      shard.index.erase(shard.order.back().first);
      shard.order.pop_back();
    }
    shard.order.emplace_front(std::string(key), std::move(value));
    // The index's keys view the list's strings, which never move while their node lives.
    shard.index.emplace(shard.order.front().first, shard.order.begin());
  }

  std::size_t size() const {
    std::size_t total = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.order.size();
    }
    return total;
  }

 private:
  struct Shard {
    using Entries = std::list<std::pair<std::string, Value>>;
    mutable std::mutex mutex;
    Entries order;  // most recently used first
    std::unordered_map<std::string_view, typename Entries::iterator> index;
  };

  std::vector<Shard> shards_;
  std::size_t per_shard_;
};

}  // namespace shortener::enrich
