// Country / region / city of a client IP from MaxMind-format databases (MMDB), read with
// libmaxminddb. Reads ip-location-db's flat schema (country_code, state1, city) and MaxMind's
// nested one (country/iso_code, subdivisions/0/names/en, city/names/en), so a licensed
// GeoIP2/GeoLite2 file can be dropped in. Databases are swapped whole on reload: a lookup
// holds the set it started with, so it never sees a half-loaded file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "worker/enrich/ip_address.h"

namespace shortener::enrich {

inline constexpr std::string_view kUnknownPlace = "unknown";

// Every field is "unknown" when the address is private, loopback, link-local, unparseable or
// simply not in any database. Country is an upper-case ISO 3166-1 alpha-2 code.
struct GeoLocation {
  std::string country{kUnknownPlace};
  std::string region{kUnknownPlace};
  std::string city{kUnknownPlace};
};

struct GeoDatabase {
  std::string path;
  std::string type;               // metadata database_type, e.g. "GeoLite2-City"
  std::uint64_t build_epoch = 0;  // metadata build_epoch: when the file was built (Unix s)
  int ip_version = 0;             // 4: IPv4 only; 6: IPv6 (and usually IPv4 too)
};

class GeoLocator {
 public:
  // Opens `paths` in order; for each field the first database that knows it wins, so list
  // a city database before a country one. ip-location-db ships IPv4 and IPv6 as separate
  // files: pass both. Errc::invalid_input for no paths or a file that is not an MMDB,
  // Errc::unavailable for a file that cannot be opened.
  static Result<GeoLocator> open(std::vector<std::string> paths);

  GeoLocator(GeoLocator&&) noexcept;
  GeoLocator& operator=(GeoLocator&&) noexcept;
  ~GeoLocator();

  // Thread-safe; never waits for a reload (a reload only swaps a pointer when it is done).
  GeoLocation lookup(std::string_view ip) const;
  GeoLocation lookup(const IpAddress& ip) const;

  // Re-opens every file when one's mtime, size or inode changed (poll it every few seconds).
  // Returns whether it swapped. On error the previous databases stay in use.
  Result<bool> reload_if_changed();
  // Re-opens every file unconditionally (SIGHUP).
  Result<void> reload();

  std::vector<GeoDatabase> databases() const;
  std::uint64_t reloads() const;  // successful swaps since open

 private:
  struct Impl;
  explicit GeoLocator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shortener::enrich
