// steady_clock's time read from CLOCK_MONOTONIC_COARSE: the same epoch, a resolution of a few
// milliseconds (the kernel tick), and a fraction of the cost of a precise read. For deadlines
// and TTLs counted in seconds on hot paths (a redirect sets two), not for measuring durations.
#pragma once

#include <time.h>

#include <chrono>

namespace shortener {

inline std::chrono::steady_clock::time_point coarse_steady_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

}  // namespace shortener
