// The correlation id of one HTTP request: the client's (or proxy's) X-Request-Id when it is
// sane, otherwise one we make up. Echoed as the X-Request-Id response header and written to
// the access log. Fixed-size storage, so neither accepting nor generating an id allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shortener::http {

class RequestId {
 public:
  static constexpr std::size_t kMaxLength = 64;

  // 1..64 characters of [A-Za-z0-9._-]: nothing that could break a header or a log line.
  static bool acceptable(std::string_view text);

  // Takes `text` when acceptable; otherwise leaves the id unchanged and returns false.
  bool assign(std::string_view text);
  // A process-unique id: a random per-process prefix, '-', a counter in base 36 that threads
  // take in blocks. No system call, lock or shared write per id: "k3ZbQ9xT-1", "k3ZbQ9xT-2".
  void generate();

  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_.data(), size_}; }

 private:
  std::array<char, kMaxLength> data_{};
  std::uint8_t size_ = 0;
};

}  // namespace shortener::http
