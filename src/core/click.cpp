#include "core/click.h"

#include <array>

#include "core/api_key.h"

namespace shortener {

namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Per-thread generator state: the last millisecond and an 80-bit random counter seeded once
// from the CSPRNG (a getrandom call per click would dominate the redirect's cost).
struct UlidState {
  std::int64_t last_ms = -1;
  std::uint16_t hi = 0;  // top 16 of the 80 random bits
  std::uint64_t lo = 0;  // low 64
};

void reseed(UlidState& state) {
  unsigned char bytes[10];
  random_bytes(bytes, sizeof bytes);
  state.hi = static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
  state.lo = 0;
  for (int i = 2; i < 10; ++i) state.lo = state.lo << 8 | bytes[i];
  state.hi &= 0x7fff;  // leave headroom so increments within a millisecond never overflow
}

}  // namespace

std::string new_event_id(TimeUs now) {
  thread_local UlidState state;
  std::int64_t ms = now / 1000;
  if (ms > state.last_ms) {
    state.last_ms = ms;
    reseed(state);
  } else {
    // Same (or an earlier, if the clock stepped back) millisecond: keep the last timestamp
    // and increment, so ids from this thread stay strictly increasing.
    if (++state.lo == 0) ++state.hi;
    ms = state.last_ms;
  }
  // 128 bits = 48-bit time + 80-bit randomness, as 26 base32 symbols (first one holds 3 bits).
  std::array<char, 26> out;
  auto time = static_cast<std::uint64_t>(ms);
  for (int i = 9; i >= 0; --i) {
    out[i] = kCrockford[time & 31];
    time >>= 5;
  }
  // 80 random bits -> 16 symbols.
  std::uint64_t lo = state.lo;
  std::uint64_t hi = state.hi;
  for (int i = 25; i >= 10; --i) {
    out[i] = kCrockford[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  return std::string(out.data(), out.size());
}

}  // namespace shortener
