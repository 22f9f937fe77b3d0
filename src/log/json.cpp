#include "log/json.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace shortener::logging {

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
