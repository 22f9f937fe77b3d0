// Reading stream entries out of XREADGROUP / XCLAIM / XAUTOCLAIM / XRANGE replies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_connection.h"

namespace shortener::stream {

// One entry: [id, [field, value, ...]] (fields are nil for an entry deleted while pending).
inline const std::string* field(const RedisValue& entry, std::string_view name) {
  if (!entry.is_array() || entry.elements.size() != 2) return nullptr;
  const auto& fields = entry.elements[1].elements;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
    if (fields[i].str == name) return &fields[i + 1].str;
  return nullptr;
}

inline const std::string* id(const RedisValue& entry) {
  if (!entry.is_array() || entry.elements.empty()) return nullptr;
  return &entry.elements[0].str;
}

}  // namespace shortener::stream
