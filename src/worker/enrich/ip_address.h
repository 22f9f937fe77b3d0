// The address ranges that can never be located (private, loopback, link-local, documentation,
// multicast, ...). Parsing is core's IpAddress, which folds IPv4-mapped IPv6 to IPv4 (the
// ip-location-db IPv6 files do not hold ::ffff:a.b.c.d).
#pragma once

#include "core/ip.h"

namespace shortener::enrich {

// False for addresses that are not globally routable unicast: a geo database has nothing
// (or nothing true) to say about them.
bool is_public(const IpAddress& ip);

}  // namespace shortener::enrich
