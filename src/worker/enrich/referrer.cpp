#include "worker/enrich/referrer.h"

#include <algorithm>

#include "core/utf8.h"

namespace shortener::enrich {
namespace {

constexpr std::size_t kMaxHost = 253;       // DNS limit for a name
constexpr std::size_t kMaxLabel = 63;       // DNS limit for a label
constexpr std::size_t kMaxUtmSource = 100;  // a label for charts, not a payload

std::string_view trim(std::string_view s) {
  constexpr std::string_view kBlank = " \t";
  const auto first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlank) - first + 1);
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The scheme's length when `s` starts with "scheme:", else 0.
std::size_t scheme_length(std::string_view s) {
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (s.empty() || !is_alpha(s[0])) return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

// The authority part ("user@host:port"), or nullopt when the value has none.
std::optional<std::string_view> authority_of(std::string_view value) {
  if (const std::size_t scheme = scheme_length(value); scheme > 0) {
    const std::string_view rest = value.substr(scheme + 1);
    if (rest.starts_with("//")) {
      value = rest.substr(2);
    } else if (!all_digits(rest.substr(0, rest.find_first_of("/?#")))) {
      return std::nullopt;  // about:blank, data:..., mailto:...; "host:8080/x" falls through
    }
  } else if (value.starts_with("//")) {
    value = value.substr(2);
  }
  return value.substr(0, value.find_first_of("/?#\\"));
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > kMaxHost) return false;
  std::size_t label = 0;
  for (const char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) return false;  // empty label: "a..b" or a leading dot
      label = 0;
      continue;
    }
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || u >= 0x80;
    if (!ok || ++label > kMaxLabel * 4) return false;  // UTF-8 labels: up to 4 bytes a char
  }
  return label > 0;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; a malformed escape is kept literally.
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Cuts to at most `limit` bytes without splitting a UTF-8 sequence (input is valid UTF-8).
std::string_view cut_utf8(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

std::string referrer_host(std::string_view referer) {
  referer = trim(referer);
  if (referer.empty()) return std::string(kDirectReferrer);
  if (has_control(referer) || !is_valid_utf8(referer)) return std::string(kUnknownReferrer);
  const auto authority = authority_of(referer);
  if (!authority) return std::string(kUnknownReferrer);
  std::string_view host = authority->substr(authority->rfind('@') + 1);  // npos + 1 == 0

  std::string_view port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::string(kUnknownReferrer);
    const std::string_view after = host.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return std::string(kUnknownReferrer);
    port = after.empty() ? after : after.substr(1);
    host = host.substr(0, close + 1);
    const std::string_view inside = host.substr(1, host.size() - 2);
    if (inside.empty() ||
        inside.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return std::string(kUnknownReferrer);
    }
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (!all_digits(port) || port.size() > 5) return std::string(kUnknownReferrer);

  std::string out = lower_ascii(host);
  if (out.starts_with('[')) return out;
  if (out.size() > 1 && out.back() == '.') out.pop_back();  // "example.com." is example.com
  if (!valid_host_name(out)) return std::string(kUnknownReferrer);
  return out;
}

std::optional<std::string> utm_source_of(std::string_view query) {
  if (const auto mark = query.find('?'); mark != std::string_view::npos) {
    query = query.substr(mark + 1);
  }
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || form_decode(pair.substr(0, eq)) != "utm_source") continue;
    const std::string value = form_decode(pair.substr(eq + 1));
    const std::string_view trimmed = trim(value);
    if (trimmed.empty()) continue;
    if (has_control(trimmed) || !is_valid_utf8(trimmed)) return std::nullopt;
    return std::string(cut_utf8(trimmed, kMaxUtmSource));
  }
  return std::nullopt;
}

}  // namespace shortener::enrich
