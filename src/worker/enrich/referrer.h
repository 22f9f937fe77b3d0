// Referrer dimension of a click: the host of the Referer header, and the utm_source the short
// link itself carried. Both feed analytics rollups, so the output is normalised and bounded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shortener::enrich {

inline constexpr std::string_view kDirectReferrer = "direct";    // no Referer at all
inline constexpr std::string_view kUnknownReferrer = "unknown";  // a Referer we cannot read

// The Referer's host, lower-cased (ASCII letters), without scheme, userinfo, port or a
// trailing dot. `www.` is kept, not folded: www.example.com and example.com are separate
// values, as they are separate hosts. Scheme-less values ("example.com/x") are read as a
// host; non-http schemes with an authority (android-app://com.slack/) give their authority.
// IPv6 literals keep their brackets. Hosts are not IDNA-converted: browsers already send
// punycode (xn--...), and a raw UTF-8 host is kept as sent.
// "direct" when empty or blank; "unknown" for control bytes, invalid UTF-8, no authority
// (about:blank, data:...), a bad port or an impossible host.
std::string referrer_host(std::string_view referer);

// The first non-empty `utm_source` of a query string ("a=1&utm_source=x", a leading '?' or a
// whole URL also work; a fragment is ignored), percent-decoded with '+' as space, trimmed and
// cut to 100 bytes (on a UTF-8 boundary). Case is kept (utm values are case-sensitive).
// nullopt when absent, empty, or decoding to control bytes or invalid UTF-8.
std::optional<std::string> utm_source_of(std::string_view query);

}  // namespace shortener::enrich
