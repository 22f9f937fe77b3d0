// JSON text for log lines: string escaping that always yields valid JSON (and valid UTF-8),
// whatever bytes a message, path or user agent holds, and RFC 3339 timestamps in UTC.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "core/utf8.h"

namespace shortener::logging {

using shortener::utf8_sequence_length;  // core/utf8.h

// Appends `text` as a quoted JSON string to `out` (std::string or fmt::memory_buffer). Quote,
// backslash, control characters and DEL are escaped; ill-formed UTF-8 becomes U+FFFD, so a
// line can never be broken up or made unparseable by what it quotes.
template <class Buffer>
void append_json_string(Buffer& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; };
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t run = i;
    while (run < text.size() && plain(static_cast<unsigned char>(text[run]))) ++run;
    out.append(text.data() + i, text.data() + run);
    if (run == text.size()) break;
    i = run;
    auto c = static_cast<unsigned char>(text[i]);
    std::string_view escape;
    switch (c) {
      case '"':
        escape = "\\\"";
        break;
      case '\\':
        escape = "\\\\";
        break;
      case '\n':
        escape = "\\n";
        break;
      case '\r':
        escape = "\\r";
        break;
      case '\t':
        escape = "\\t";
        break;
      default:
        break;
    }
    if (!escape.empty()) {
      out.append(escape.data(), escape.data() + escape.size());
      ++i;
    } else if (c < 0x80) {  // other control characters and DEL
      const char unicode[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(unicode, unicode + sizeof unicode);
      ++i;
    } else if (std::size_t length = utf8_sequence_length(text.substr(i)); length > 0) {
      out.append(text.data() + i, text.data() + i + length);
      i += length;
    } else {
      constexpr std::string_view kReplacement = "\\ufffd";
      out.append(kReplacement.data(), kReplacement.data() + kReplacement.size());
      ++i;
    }
  }
  out.push_back('"');
}

// "2026-11-29T12:00:00.123456Z": RFC 3339, UTC, microseconds.
inline constexpr std::size_t kTimestampLength = 27;
std::array<char, kTimestampLength> utc_timestamp(std::chrono::system_clock::time_point time);

}  // namespace shortener::logging
