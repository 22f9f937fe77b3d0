// ClickEvent <-> bytes for the Redis click stream and the Redis spool: one stream entry (field
// "e") per event. Binary, versioned by its first byte, every field of ClickEvent.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/click.h"

namespace shortener {

std::string encode_click_event(const ClickEvent& event);
// nullopt for a truncated, foreign or newer-version payload.
std::optional<ClickEvent> decode_click_event(std::string_view bytes);

}  // namespace shortener
