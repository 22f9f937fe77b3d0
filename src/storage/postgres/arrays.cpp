#include "storage/postgres/arrays.h"

#include <utility>

#include "core/utf8.h"

namespace shortener::pg {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none: PostgreSQL text
// cannot hold NUL, so NUL counts as invalid here.
std::size_t sequence_length(std::string_view s, std::size_t i) {
  return s[i] == 0 ? 0 : utf8_sequence_length(s.substr(i));
}

}  // namespace

void append_valid_utf8(std::string& out, std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x80 && c != 0) {  // the common case: ASCII
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t n = sequence_length(value, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(value.substr(i, n));
      i += n;
    }
  }
}

std::string valid_utf8(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  append_valid_utf8(out, value);
  return out;
}

void ArrayLiteral::add(std::string_view value) {
  separate();
  text_ += '"';
  for (std::size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (static_cast<unsigned char>(c) < 0x80 && c != 0) {  // the common case: ASCII
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
      ++i;
      continue;
    }
    const std::size_t n = sequence_length(value, i);
    if (n == 0) {
      text_ += kReplacement;
      ++i;
    } else {
      text_.append(value.substr(i, n));
      i += n;
    }
  }
  text_ += '"';
}

std::string bytea_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

void ArrayLiteral::add_bytea(std::string_view bytes) {
  separate();
  text_ += "\"\\";  // the element's quote, then its "\x" with the backslash escaped
  text_ += bytea_hex(bytes);
  text_ += '"';
}

void ArrayLiteral::add(std::int64_t value) {
  separate();
  text_ += std::to_string(value);
}

std::string ArrayLiteral::take() {
  text_ += '}';
  std::string literal = std::move(text_);
  text_.assign(1, '{');  // not `= "{"`: GCC 12 warns about that (a -Wrestrict false positive)
  return literal;
}

}  // namespace shortener::pg
