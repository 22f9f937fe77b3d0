// Client IP parsing for enrichment: textual IPv4/IPv6 to bytes, IPv4-mapped IPv6 folded to
// IPv4 (ip-location-db's IPv6 files do not hold ::ffff:a.b.c.d), and the ranges that can never
// be located (private, loopback, link-local, documentation, multicast, ...).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace shortener::enrich {

struct IpAddress {
  enum class Family { v4, v6 };
  Family family = Family::v4;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4

  bool is_v4() const { return family == Family::v4; }
};

// Accepts dotted-quad IPv4 and RFC 4291 IPv6 (optionally in [brackets], surrounding blanks
// ignored). Zone ids ("fe80::1%eth0"), ports and anything else give nullopt.
std::optional<IpAddress> parse_ip(std::string_view text);

// False for addresses that are not globally routable unicast: a geo database has nothing
// (or nothing true) to say about them.
bool is_public(const IpAddress& ip);

}  // namespace shortener::enrich
