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

// Parses, validates and normalises a destination URL:
// - http/https only, a host required, no userinfo with a password hidden in it... (see .cpp);
// - scheme and host lower-cased, IDN hosts converted to punycode, default ports dropped,
//   an empty path becomes "/", percent-encoding normalised;
// - refuses control characters, spaces, CR/LF, over-long input, own hosts, blocked domains.
// Errc::invalid_input with a detail a user can act on.
Result<std::string> normalize_url(std::string_view input, const UrlPolicy& policy);

// Loads a blocklist file: one domain per line, '#' comments, blank lines ignored.
Result<std::unordered_set<std::string>> load_domain_blocklist(const std::string& path);

// The lower-case host of a URL the operator configured (e.g. --public-url), or an error.
Result<std::string> host_of(std::string_view url);

}  // namespace shortener
