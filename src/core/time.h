// RFC 3339 timestamps <-> microseconds since the epoch (UTC).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/link.h"

namespace shortener {

// Accepts "2026-01-02T03:04:05Z", fractional seconds (up to 9 digits, truncated to µs),
// "+hh:mm"/"-hh:mm" offsets, and 't'/'z' lower case. nullopt for anything else, including
// out-of-range fields (month 13, Feb 30, hour 24, leap second 60), years outside 1970..9999
// and instants before the epoch once the offset is applied.
std::optional<TimeUs> parse_rfc3339(std::string_view text);
// "2026-01-02T03:04:05.123456Z" (always UTC; fraction only when non-zero, as 3 or 6 digits).
std::string format_rfc3339(TimeUs t);

}  // namespace shortener
