// Reading stream entries out of XREADGROUP / XCLAIM / XAUTOCLAIM / XRANGE replies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/redis/click_codec.h"
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

// The clicks an entry of the click stream (or of its dead-letter stream) carries: field "b",
// a batch, or field "e", one event (as earlier versions wrote them). bytes is null when the
// entry has neither (deleted while pending).
struct Payload {
  std::string_view field;
  const std::string* bytes = nullptr;
};

inline Payload payload(const RedisValue& entry) {
  if (const std::string* batch = field(entry, "b")) return {"b", batch};
  if (const std::string* event = field(entry, "e")) return {"e", event};
  return {};
}

// nullopt when there is no payload or it does not decode.
inline std::optional<std::vector<ClickEvent>> decode(const Payload& payload) {
  if (payload.bytes == nullptr) return std::nullopt;
  if (payload.field == "b") return decode_click_batch(*payload.bytes);
  auto event = decode_click_event(*payload.bytes);
  if (!event) return std::nullopt;
  std::vector<ClickEvent> events;
  events.push_back(std::move(*event));
  return events;
}

}  // namespace shortener::stream
