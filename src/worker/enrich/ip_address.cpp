#include "worker/enrich/ip_address.h"

#include <algorithm>
#include <cstring>

namespace shortener::enrich {
namespace {

struct Prefix {
  std::array<std::uint8_t, 16> bytes;
  int bits;
};

bool in_prefix(const std::uint8_t* address, const Prefix& prefix) {
  const int whole = prefix.bits / 8;
  if (std::memcmp(address, prefix.bytes.data(), static_cast<std::size_t>(whole)) != 0) {
    return false;
  }
  const int rest = prefix.bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address[whole] & mask) == (prefix.bytes[static_cast<std::size_t>(whole)] & mask);
}

// IANA special-purpose registries (RFC 6890 and successors), minus the ranges that do route.
constexpr Prefix kSpecialV4[] = {
    {{0}, 8},              // "this network"
    {{10}, 8},             // private
    {{100, 64}, 10},       // carrier-grade NAT
    {{127}, 8},            // loopback
    {{169, 254}, 16},      // link-local
    {{172, 16}, 12},       // private
    {{192, 0, 0}, 24},     // IETF protocol assignments
    {{192, 0, 2}, 24},     // TEST-NET-1
    {{192, 88, 99}, 24},   // deprecated 6to4 relay anycast
    {{192, 168}, 16},      // private
    {{198, 18}, 15},       // benchmarking
    {{198, 51, 100}, 24},  // TEST-NET-2
    {{203, 0, 113}, 24},   // TEST-NET-3
    {{224}, 4},            // multicast
    {{240}, 4},            // reserved and broadcast
};

constexpr Prefix kSpecialV6[] = {
    {{0}, 96},                       // unspecified, loopback, deprecated IPv4-compatible
    {{0x01, 0x00}, 64},              // discard-only
    {{0x20, 0x01, 0x0d, 0xb8}, 32},  // documentation
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48},  // benchmarking
    {{0xfc}, 7},                                 // unique local
    {{0xfe, 0x80}, 10},                          // link-local
    {{0xfe, 0xc0}, 10},                          // deprecated site-local
    {{0xff}, 8},                                 // multicast
};

}  // namespace

bool is_public(const IpAddress& ip) {
  const auto* address = ip.bytes.data();
  if (ip.v4) {
    return std::none_of(std::begin(kSpecialV4), std::end(kSpecialV4),
                        [&](const Prefix& p) { return in_prefix(address, p); });
  }
  return std::none_of(std::begin(kSpecialV6), std::end(kSpecialV6),
                      [&](const Prefix& p) { return in_prefix(address, p); });
}

}  // namespace shortener::enrich
