// ClickEvent <-> bytes for the Redis click stream and the Redis spool. Binary, versioned by
// the first byte, every field of ClickEvent.
//   event: one event (the spool's records, and the stream entries of field "e" that earlier
//          versions wrote, one per click; they are still read).
//   batch: a count, then that many events (stream entries of field "b": one per shipped batch
//          of up to RedisClickQueueOptions::entry_events clicks).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/click.h"

namespace shortener {

std::string encode_click_event(const ClickEvent& event);
// nullopt for a truncated, foreign or newer-version payload.
std::optional<ClickEvent> decode_click_event(std::string_view bytes);

std::string encode_click_batch(std::span<const ClickEvent> events);
// nullopt for a truncated, foreign or newer-version payload, or an empty batch.
std::optional<std::vector<ClickEvent>> decode_click_batch(std::string_view bytes);

}  // namespace shortener
