// Destination URL validation and normalisation (Boost.URL + libidn2). Everything a redirect
// puts into `Location` passed through normalize_url, so it holds no CR/LF, spaces or controls.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/error.h"

namespace shortener {

struct UrlPolicy {
  std::size_t max_length = 2048;  // of the input and of the normalised result
  // Hosts that are the shortener itself (lower case, punycode): links to them are refused so
  // a short link cannot redirect to another short link (loops, laundering).
  std::vector<std::string> own_hosts;
  // Refused domains, lower case, punycode; a domain also blocks its subdomains.
  std::unordered_set<std::string> blocked_domains;
};

// Parses, validates and normalises a destination URL (policy decisions: top of the .cpp):
// - absolute http/https only, with a host; no userinfo ("http://paypal.com@evil.example/");
// - scheme and host lower-cased, IDN hosts converted to punycode, a trailing host dot and
//   default ports dropped, an empty path becomes "/", dot segments removed, escapes
//   normalised, non-ASCII (and `{|}`-like characters browsers tolerate) percent-encoded:
//   the result is printable ASCII, and normalising it again returns it unchanged;
// - refuses control characters, spaces, backslashes, input or result over max_length, own
//   hosts (on any port), blocked domains and their subdomains.
// Errc::invalid_input with a detail a user can act on.
Result<std::string> normalize_url(std::string_view input, const UrlPolicy& policy);

// Loads a blocklist file: one domain per line, '#' comments, blank lines ignored. Entries are
// normalised like URL hosts (case, IDN, trailing dot); a malformed one is an error naming it.
Result<std::unordered_set<std::string>> load_domain_blocklist(const std::string& path);

// The host of a URL the operator configured (e.g. --public-url), normalised as in
// normalize_url, so that it can go into UrlPolicy::own_hosts; or an error.
Result<std::string> host_of(std::string_view url);

}  // namespace shortener
