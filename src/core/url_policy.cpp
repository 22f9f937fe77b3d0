// Destination URL normalisation. The flow is: cheap character checks on the raw text, the
// scheme, the authority split by hand into host and port, then each component normalised:
//
// - the host is percent-decoded, checked and converted to punycode with libidn2 (a trailing
//   dot is dropped, so "example.com." and "example.com" are one host for every check below);
//   IPv6 literals are parsed and printed canonically by Boost.URL;
// - the port must be 1..65535 and is dropped when it is the scheme's default;
// - path, query and fragment first get percent-encoded what browsers send anyway but RFC 3986
//   forbids (non-ASCII, `{|}` and friends), then escapes are upper-cased and unreserved
//   characters decoded; the path also loses its dot segments.
// The result is finally re-parsed with boost::urls::parse_uri as a guard against our own bugs.
//
// Why so little Boost.URL: version 1.81 (Debian 12) ends the authority wherever its grammar
// stops, so "http://1.2.3.4.nip.io/" parses as host 1.2.3.4 with path ".nip.io/" and
// "http://a:8o/" as port 8; and its normalize_path() decodes %2F into '/' and keeps leading
// "../" (not idempotent).
//
// Policy decisions, each deliberate:
// - URLs with userinfo are refused: "http://paypal.com@evil.example/" reads as PayPal and goes
//   to evil.example, and a shortener hides the URL from the reader even more.
// - Loopback and private addresses (http://127.0.0.1/, http://[::1]:8080/) are allowed: the
//   shortener never fetches the destination, the visitor's browser does, so blocking them
//   protects nobody. Hosts are not canonicalised beyond case and IDNA (0x7f.1 stays as typed).
// - Percent-encoded CR/LF (%0D%0A) may stay in path, query and fragment: they remain three
//   ASCII characters each in `Location`, so they cannot split the header; in the host they are
//   decoded and therefore refused.
// - own_hosts match the host exactly and on any port; "www." variants must be listed.
#include "core/url_policy.h"

#include <idn2.h>

#include <algorithm>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>

namespace shortener {
namespace {

namespace urls = boost::urls;

constexpr std::string_view kWhitespace = " \t\n\r\f\v";
constexpr std::size_t kMaxHostLength = 253;  // DNS limit without the trailing dot
constexpr std::size_t kMaxLabelLength = 63;
constexpr const char* kBadHost = "url host is not a valid domain name";
constexpr const char* kBadPort = "url port must be a number from 1 to 65535";
// Only if our own output fails the final parse: a bug, which url_fuzz looks for.
constexpr const char* kUnparsable = "url could not be normalised";

// What normalisation yields; the URL is scheme + "://" + host + port + rest.
struct UrlParts {
  std::string scheme;
  std::string host;  // lower case, punycode; IPv6 in brackets
  std::string port;  // empty when absent or default
  std::string rest;  // path (at least "/"), query, fragment
  std::string str() const {
    return scheme + "://" + host + (port.empty() ? "" : ":" + port) + rest;
  }
};

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (to_lower(c) >= 'a' && to_lower(c) <= 'f');
}

int hex_value(char c) {
  return c <= '9' ? c - '0' : to_lower(c) - 'a' + 10;
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (to_lower(c) >= 'a' && to_lower(c) <= 'z');
}

bool is_unreserved(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

void append_escape(std::string& out, unsigned char byte) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  out += '%';
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

// Refuses what must never reach a header, before anything else looks at the text.
Result<void> check_characters(std::string_view s) {
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return fail(Errc::invalid_input, "url must not contain control characters (tab, CR, LF...)");
    }
    if (c == ' ')
      return fail(Errc::invalid_input, "url must not contain spaces; encode them as %20");
    // Browsers read '\' as '/' in http(s) URLs, so "http:\\evil.com" would go to evil.com
    // while our parser sees no host: refuse instead of guessing.
    if (c == '\\') return fail(Errc::invalid_input, "url must not contain backslashes");
  }
  return {};
}

// Path, query and fragment: percent-encodes what browsers send anyway but RFC 3986 forbids,
// so that the result is strict, pure ASCII and parses. A '%' not starting an escape is taken
// literally, as browsers do.
std::string encode_rest(std::string_view rest) {
  constexpr std::string_view kTolerated = "\"<>[]^`{|}";
  std::string out;
  out.reserve(rest.size());
  bool in_fragment = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    const bool stray_percent =
        c == '%' && !(i + 2 < rest.size() && is_hex(rest[i + 1]) && is_hex(rest[i + 2]));
    if (is_non_ascii(c) || kTolerated.find(c) != std::string_view::npos || stray_percent ||
        (c == '#' && in_fragment)) {
      append_escape(out, static_cast<unsigned char>(c));
    } else {
      out += c;
    }
    in_fragment = in_fragment || c == '#';
  }
  return out;
}

// Upper-case hex in escapes, decode escaped unreserved characters (RFC 3986 6.2.2.1-2).
std::string normalise_escapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%' || i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
      out += s[i];
      continue;
    }
    const auto byte = static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    if (is_unreserved(static_cast<char>(byte))) {
      out += static_cast<char>(byte);
    } else {
      append_escape(out, byte);
    }
    i += 2;
  }
  return out;
}

// RFC 3986 5.2.4 for an absolute path ("/..." or empty): "/a/./b/../c" -> "/a/c".
std::string remove_dot_segments(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t next = std::min(path.find('/', i + 1), path.size());
    const std::string_view segment = path.substr(i + 1, next - i - 1);
    const bool last = next == path.size();
    if (segment == "..") out.erase(std::min(out.rfind('/'), out.size()));
    if (segment == "." || segment == "..") {
      if (last) out += '/';
    } else {
      out.append(path.substr(i, next - i));
    }
    i = next;
  }
  return out.empty() ? "/" : out;
}

// libidn2: UTS #46 non-transitional first ("faß.de" stays faß); transitional as a fallback,
// which is what lets symbol/emoji hosts such as "☃.net" through, as browsers do.
Result<std::string> to_punycode(const std::string& host) {
  for (const int flags :
       {static_cast<int>(IDN2_NONTRANSITIONAL), static_cast<int>(IDN2_TRANSITIONAL)}) {
    char* out = nullptr;
    if (idn2_to_ascii_8z(host.c_str(), &out, flags) == IDN2_OK) {
      const std::unique_ptr<char, decltype(&std::free)> owner(out, &std::free);
      return lower(out);
    }
  }
  return fail(Errc::invalid_input, "url host is not a valid internationalised domain name");
}

bool valid_ascii_host(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  std::size_t label = 0;
  for (const char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_alnum(c) || c == '-' || c == '_') {  // '_' occurs in real subdomains
      if (++label > kMaxLabelLength) return false;
    } else {
      return false;
    }
  }
  return label != 0;
}

// A registered name, already percent-decoded: ASCII hosts are lower-cased; non-ASCII ones and
// punycode ones ("xn--", checked for validity) go through libidn2.
Result<std::string> normalise_domain(std::string_view decoded) {
  const auto bad = [] { return fail(Errc::invalid_input, kBadHost); };
  // Also keeps NUL away from the C API, which would silently cut the host there.
  for (const char c : decoded) {
    if (!is_non_ascii(c) && !is_alnum(c) && c != '-' && c != '_' && c != '.') return bad();
  }
  std::string host = lower(decoded);
  if (std::any_of(host.begin(), host.end(), is_non_ascii) || host.starts_with("xn--") ||
      host.find(".xn--") != std::string::npos) {
    auto ascii = to_punycode(host);
    if (!ascii) return ascii;
    host = std::move(*ascii);
  }
  if (host.ends_with('.')) host.pop_back();
  if (!valid_ascii_host(host)) return bad();
  return host;
}

// "[...]" (an IPv6 literal; IPvFuture and zone ids are refused) or a registered name, which may
// be percent-encoded ("b%C3%BCcher.de").
Result<std::string> normalise_host(std::string_view host) {
  if (host.starts_with('[')) {
    const auto address = urls::parse_ipv6_address(host.substr(1, host.size() - 2));
    if (!address) return fail(Errc::invalid_input, kBadHost);
    return "[" + address->to_string() + "]";
  }
  std::string decoded;
  for (std::size_t i = 0; i < host.size(); ++i) {
    if (host[i] != '%') {
      decoded += host[i];
    } else if (i + 2 < host.size() && is_hex(host[i + 1]) && is_hex(host[i + 2])) {
      decoded += static_cast<char>(hex_value(host[i + 1]) * 16 + hex_value(host[i + 2]));
      i += 2;
    } else {
      return fail(Errc::invalid_input, kBadHost);
    }
  }
  return normalise_domain(decoded);
}

// `digits` holds digits only (split_authority). Leading zeros are tolerated and dropped.
Result<std::string> normalise_port(std::string_view digits, std::string_view scheme) {
  const auto bad = [] { return fail(Errc::invalid_input, kBadPort); };
  if (digits.empty()) return std::string();
  digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty() || digits.size() > 5) return bad();
  const int port = std::stoi(std::string(digits));
  if (port > 65535) return bad();
  if ((scheme == "http" && port == 80) || (scheme == "https" && port == 443)) return std::string();
  return std::string(digits);
}

// Splits "host[:port]"; the host is "[...]" or runs to the first ':'.
struct Authority {
  std::string_view host;
  std::string_view port;  // digits, possibly empty
};

Result<Authority> split_authority(std::string_view authority) {
  if (authority.find('@') != std::string_view::npos) {
    return fail(Errc::invalid_input, "url must not contain a user name or password");
  }
  std::size_t host_end = authority.find(':');
  if (authority.starts_with('[')) {
    host_end = authority.find(']');
    if (host_end == std::string_view::npos) return fail(Errc::invalid_input, kBadHost);
    ++host_end;
  }
  Authority parts{authority.substr(0, host_end), {}};
  if (parts.host.empty()) return fail(Errc::invalid_input, "url must have a host");
  if (host_end >= authority.size()) return parts;
  if (authority[host_end] != ':') return fail(Errc::invalid_input, kBadHost);  // "[::1]x"
  parts.port = authority.substr(host_end + 1);
  if (parts.port.find_first_not_of("0123456789") != std::string_view::npos) {
    return fail(Errc::invalid_input, kBadPort);
  }
  return parts;
}

// Path, query and fragment: made strict (encode_rest), escapes normalised, dot segments gone.
std::string normalise_rest(std::string_view raw) {
  const std::string rest = encode_rest(raw);
  const std::size_t hash = std::min(rest.find('#'), rest.size());
  const std::size_t question = std::min(rest.find('?'), hash);
  std::string out = remove_dot_segments(normalise_escapes(rest.substr(0, question)));
  out += normalise_escapes(rest.substr(question, hash - question));
  out += normalise_escapes(rest.substr(hash));
  return out;
}

// The scheme, lower case, when it is http or https and followed by "//".
Result<std::string> check_scheme(std::string_view text) {
  const auto colon = text.find_first_of(":/?#");
  if (colon == std::string_view::npos || colon == 0 || text[colon] != ':') {
    return fail(Errc::invalid_input, "url must be absolute, starting with http:// or https://");
  }
  std::string scheme = lower(text.substr(0, colon));
  if (scheme != "http" && scheme != "https") {
    return fail(Errc::invalid_input, "url must use http or https");
  }
  if (text.substr(colon + 1, 2) != "//") return fail(Errc::invalid_input, "url must have a host");
  return scheme;
}

Result<UrlParts> parse_parts(std::string_view input, std::size_t max_length) {
  if (input.size() > max_length) {
    return fail(Errc::invalid_input,
                "url must be at most " + std::to_string(max_length) + " characters");
  }
  const std::string_view text = trim(input);
  if (text.empty()) return fail(Errc::invalid_input, "url must not be empty");
  if (auto ok = check_characters(text); !ok) return std::unexpected(ok.error());
  auto scheme = check_scheme(text);
  if (!scheme) return std::unexpected(scheme.error());

  const std::string_view after = text.substr(scheme->size() + 3);
  const std::string_view authority = after.substr(0, after.find_first_of("/?#"));
  const auto split = split_authority(authority);
  if (!split) return std::unexpected(split.error());
  auto host = normalise_host(split->host);
  if (!host) return std::unexpected(host.error());
  auto port = normalise_port(split->port, *scheme);
  if (!port) return std::unexpected(port.error());

  UrlParts parts{std::move(*scheme), std::move(*host), std::move(*port),
                 normalise_rest(after.substr(authority.size()))};
  if (!urls::parse_uri(parts.str())) return fail(Errc::invalid_input, kUnparsable);
  return parts;
}

// The host itself or any parent domain on the list ("a.b.evil.com" is blocked by "evil.com").
bool is_blocked(std::string_view host, const std::unordered_set<std::string>& blocked) {
  if (blocked.empty()) return false;
  while (true) {
    if (blocked.contains(std::string(host))) return true;
    const auto dot = host.find('.');
    if (dot == std::string_view::npos) return false;
    host.remove_prefix(dot + 1);
  }
}

bool is_own_host(std::string_view host, const std::vector<std::string>& own_hosts) {
  return std::any_of(own_hosts.begin(), own_hosts.end(), [&](const std::string& own) {
    std::string_view h = own;
    if (h.ends_with('.')) h.remove_suffix(1);  // tolerate an operator's FQDN spelling
    return lower(h) == host;
  });
}

}  // namespace

Result<std::string> normalize_url(std::string_view input, const UrlPolicy& policy) {
  auto parts = parse_parts(input, policy.max_length);
  if (!parts) return std::unexpected(parts.error());
  std::string url = parts->str();
  // Escaping non-ASCII triples its length, so the limit is checked again on the result.
  if (url.size() > policy.max_length) {
    return fail(Errc::invalid_input, "url must be at most " + std::to_string(policy.max_length) +
                                         " characters once normalised");
  }
  if (is_own_host(parts->host, policy.own_hosts)) {
    return fail(Errc::invalid_input, "url must not point to this shortener");
  }
  if (is_blocked(parts->host, policy.blocked_domains)) {
    return fail(Errc::invalid_input, "url host " + parts->host + " is blocked");
  }
  return url;
}

Result<std::unordered_set<std::string>> load_domain_blocklist(const std::string& path) {
  std::ifstream file(path);
  if (!file) return fail(Errc::invalid_input, "cannot read domain blocklist " + path);
  std::unordered_set<std::string> domains;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const std::string_view entry = trim(std::string_view(line).substr(0, line.find('#')));
    if (entry.empty()) continue;
    auto domain = normalise_domain(entry);
    if (!domain) {
      return fail(Errc::invalid_input, path + ":" + std::to_string(number) + ": '" +
                                           std::string(entry) + "' is not a domain name");
    }
    domains.insert(std::move(*domain));
  }
  return domains;
}

Result<std::string> host_of(std::string_view url) {
  // Operator input (e.g. --public-url): no length policy beyond sanity.
  constexpr std::size_t kMaxConfiguredUrl = 4096;
  auto parts = parse_parts(url, kMaxConfiguredUrl);
  if (!parts) return std::unexpected(parts.error());
  return std::move(parts->host);
}

}  // namespace shortener
