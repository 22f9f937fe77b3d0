#include "log/json.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace shortener::logging {

std::size_t utf8_sequence_length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char first = byte(0);
  std::size_t length = 0;
  // The allowed range of the second byte excludes overlong forms, surrogates (U+D800..DFFF)
  // and code points beyond U+10FFFF (Unicode table 3-7).
  unsigned char low = 0x80, high = 0xbf;
  if (first < 0x80) {
    return 1;
  } else if (first >= 0xc2 && first <= 0xdf) {
    length = 2;
  } else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    if (first == 0xe0) low = 0xa0;
    if (first == 0xed) high = 0x9f;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    if (first == 0xf0) low = 0x90;
    if (first == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  return length;
}

std::array<char, kTimestampLength> utc_timestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto second = floor<seconds>(time);
  auto micros = duration_cast<microseconds>(time - second).count();
  // Formatting the date is the expensive part: once per second per thread.
  thread_local sys_seconds cached_second{};
  thread_local char cached[20] = {};  // "2026-11-29T12:00:00" and NUL
  if (second != cached_second || cached[0] == '\0') {
    std::time_t t = system_clock::to_time_t(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  std::array<char, kTimestampLength> out{};
  std::copy(cached, cached + 19, out.begin());
  out[19] = '.';
  for (int i = 25; i >= 20; --i, micros /= 10) out[i] = static_cast<char>('0' + micros % 10);
  out[26] = 'Z';
  return out;
}

}  // namespace shortener::logging
