// Array literals ('{"a","b"}', '{1,2}') for the one-array-per-column parameters of the batch
// statements (INSERT ... SELECT * FROM unnest($1::text[], ...)).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shortener::pg {

// One column of a batch, built value by value.
class ArrayLiteral {
 public:
  ArrayLiteral() : text_("{") {}

  // Quoted and escaped. PostgreSQL text holds neither NUL nor invalid UTF-8 (the whole batch
  // would fail, every retry again), so those bytes become U+FFFD.
  void add(std::string_view value);
  void add(const char* value) = delete;  // would silently pick add(bool)
  // A bytea element, hex-encoded.
  void add_bytea(std::string_view bytes);
  void add(std::int64_t value);
  void add(bool value) {
    separate();
    text_ += value ? 't' : 'f';
  }
  // The literal; the builder is empty afterwards.
  std::string take();

 private:
  void separate() {
    if (text_.size() > 1) text_ += ',';
  }

  std::string text_;
};

// A bytea parameter in text format: "\x" and two hex digits per byte.
std::string bytea_hex(std::string_view bytes);

// `value` with NUL bytes and invalid UTF-8 sequences replaced by U+FFFD.
std::string valid_utf8(std::string_view value);
// The same, appended to `out`.
void append_valid_utf8(std::string& out, std::string_view value);

}  // namespace shortener::pg
