#include "http/request_id.h"

#include <algorithm>
#include <atomic>
#include <random>

namespace shortener::http {

namespace {

constexpr std::string_view kAlphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
// 62^8 ≈ 2^47 prefixes: processes that ever share a log stream will not collide.
constexpr std::size_t kPrefixLength = 8;

struct Prefix {
  std::array<char, kPrefixLength + 1> text{};  // the random characters and '-'
};

Prefix make_prefix() {
  std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  Prefix prefix;
  for (std::size_t i = 0; i < kPrefixLength; ++i) prefix.text[i] = kAlphabet[pick(device)];
  prefix.text[kPrefixLength] = '-';
  return prefix;
}

const Prefix& process_prefix() {
  static const Prefix prefix = make_prefix();  // one random_device read per process
  return prefix;
}

// Threads take numbers in blocks, so I/O threads do not contend on one cache line per request.
constexpr std::uint64_t kBlock = 1024;
std::atomic<std::uint64_t> next_block{1};

std::uint64_t next_number() {
  thread_local std::uint64_t next = 0, end = 0;
  if (next == end) {
    next = next_block.fetch_add(kBlock, std::memory_order_relaxed);
    end = next + kBlock;
  }
  return next++;
}

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

bool RequestId::acceptable(std::string_view text) {
  return !text.empty() && text.size() <= kMaxLength &&
         std::all_of(text.begin(), text.end(), allowed);
}

bool RequestId::assign(std::string_view text) {
  if (!acceptable(text)) return false;
  std::copy(text.begin(), text.end(), data_.begin());
  size_ = static_cast<std::uint8_t>(text.size());
  return true;
}

void RequestId::generate() {
  const auto& prefix = process_prefix().text;
  std::uint64_t n = next_number();
  char digits[16];  // 36^13 > 2^64
  std::size_t count = 0;
  do {
    digits[count++] = kAlphabet[n % 36];
    n /= 36;
  } while (n != 0);
  char* out = std::copy(prefix.begin(), prefix.end(), data_.begin());
  out = std::reverse_copy(digits, digits + count, out);
  size_ = static_cast<std::uint8_t>(out - data_.data());
}

}  // namespace shortener::http
