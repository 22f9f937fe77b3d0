// Click events: what a redirect records (ClickEvent, raw, with PII) and what the worker stores
// after enrichment (EnrichedClick: no raw IP unless the operator asked for a truncated one).
#pragma once

#include <cstdint>
#include <string>

#include "core/link.h"

namespace shortener {

struct ClickEvent {
  std::string id;  // 26-char ULID: unique, time-ordered; makes re-processing idempotent
  std::int64_t link_id = 0;
  std::int64_t account_id = 0;  // owner of the link (0: anonymous), for account-wide live feeds
  std::string slug;
  TimeUs at = 0;
  std::string ip;  // the client address (per --trust-proxy), textual
  std::string user_agent;
  std::string referer;
  std::string accept_language;
  std::string query;  // the short link request's raw query (bounded); utm_source comes from it
  std::string destination;  // the URL this click was redirected to (links can be edited)
};

struct EnrichedClick {
  std::string id;
  std::int64_t link_id = 0;
  std::int64_t account_id = 0;
  std::string slug;
  TimeUs at = 0;
  std::string country = "unknown";  // ISO 3166-1 alpha-2
  std::string region = "unknown";
  std::string city = "unknown";
  std::string referrer = "direct";  // host of the Referer, "direct" or "unknown"
  std::string device = "other";     // desktop, mobile, tablet, bot, other
  std::string browser = "Other";
  std::string browser_version;  // major version
  std::string os = "Other";
  bool bot = false;
  std::string bot_reason;  // empty unless bot
  std::string visitor;     // keyed hash of (ip, user agent, day); see worker/enrich
  std::string utm_source;
  std::string destination;
  std::string ip_prefix;  // truncated client address when --keep-ip-prefix, else empty
  bool unique = false;    // set by the ClickStore: first click of this visitor today
};

// Generates ULIDs (48-bit ms timestamp + 80 random bits, Crockford base32). Monotonic within a
// thread: the random part increments within a millisecond, so ids sort by creation.
std::string new_event_id(TimeUs now);

}  // namespace shortener
