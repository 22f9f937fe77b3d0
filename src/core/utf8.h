// Well-formed UTF-8 (Unicode table 3-7): what the log formatter, the PostgreSQL adapter and the
// referrer normaliser each need to know about the bytes they are handed.
#pragma once

#include <cstddef>
#include <string_view>

namespace shortener {

// The length of the well-formed UTF-8 sequence that starts `text` (non-empty), or 0 when the
// first byte does not start one (stray continuation byte, overlong form, surrogate, beyond
// U+10FFFF, truncated). ASCII, NUL included, is 1.
std::size_t utf8_sequence_length(std::string_view text);

// Whether all of `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace shortener
