// The Link aggregate and the values used to create and change one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace shortener {

// Microseconds since the Unix epoch, UTC. Every timestamp in the domain uses this unit.
using TimeUs = std::int64_t;

struct Link {
  std::int64_t id = 0;
  std::string slug;
  std::string url;  // normalised destination, exactly what goes into Location
  std::string title;
  std::int64_t account_id = 0;  // 0: anonymous
  std::string stats_token;      // capability for the link's analytics (stats_url)
  TimeUs created_at = 0;
  std::optional<TimeUs> expires_at;
  std::optional<TimeUs> deleted_at;

  bool expired(TimeUs now) const { return expires_at && *expires_at <= now; }
  bool gone(TimeUs now) const { return deleted_at.has_value() || expired(now); }
};

struct NewLink {
  std::string slug;
  std::string url;
  std::string title;
  std::int64_t account_id = 0;
  std::string stats_token;
  TimeUs created_at = 0;
  std::optional<TimeUs> expires_at;
};

// A PATCH: each engaged member replaces the stored value. expires_at engaged with nullopt
// inside clears the expiry.
struct LinkPatch {
  std::optional<std::string> url;
  std::optional<std::string> title;
  std::optional<std::optional<TimeUs>> expires_at;
};

struct Account {
  std::int64_t id = 0;
  bool admin = false;
  TimeUs created_at = 0;
};

}  // namespace shortener
