// IP addresses, CIDR ranges and the client-address rule for requests that crossed proxies.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace shortener {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as IPv4, so one
// address has one representation.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
  bool v4 = true;

  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress network;
  int prefix = 0;

  // "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128).
  static Result<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& ip) const;
};

// "a/8, b/16" -> ranges; Errc::invalid_input naming the bad element.
Result<std::vector<Cidr>> parse_cidr_list(std::string_view text);

bool is_trusted(const IpAddress& ip, const std::vector<Cidr>& trusted);

// The client address: the TCP peer, unless the peer is a trusted proxy; then the rightmost
// X-Forwarded-For element that is not itself trusted (elements left of it are client-supplied
// and could be forged). An unparseable element ends the walk: the last good hop is used.
IpAddress client_address(const IpAddress& peer, std::string_view x_forwarded_for,
                         const std::vector<Cidr>& trusted);

}  // namespace shortener
