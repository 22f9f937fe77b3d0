#include "core/slug.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "core/api_key.h"

namespace shortener {
namespace {

// Paths the shortener serves itself, or may serve later, compared case-insensitively so that
// "/API" cannot be registered to look like ours. Names with a '.' (favicon.ico, robots.txt)
// need no entry: '.' is not a slug character.
constexpr std::array<std::string_view, 21> kReservedSlugs = {
    "about",   "admin",    "api",    "app",    "assets", "dashboard", "docs",
    "healthz", "help",     "live",   "login",  "logout", "metrics",   "qr",
    "readyz",  "settings", "signin", "signup", "static", "stats",     "www",
};

bool is_slug_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool all_slug_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_slug_char);
}

// `word` is lower case (it comes from kReservedSlugs).
bool iequals_ascii(std::string_view s, std::string_view word) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return s.size() == word.size() && std::equal(s.begin(), s.end(), word.begin(),
                                               [&](char x, char y) { return lower(x) == y; });
}

bool length_ok(std::size_t n) {
  return n >= static_cast<std::size_t>(kMinSlugLength) &&
         n <= static_cast<std::size_t>(kMaxSlugLength);
}

}  // namespace

std::string random_slug(int length) {
  if (length < kMinSlugLength || length > kMaxSlugLength) {
    throw std::invalid_argument("random_slug: length out of range");  // config bounds it
  }
  std::string slug(static_cast<std::size_t>(length), '\0');
  do {
    random_bytes(reinterpret_cast<unsigned char*>(slug.data()), slug.size());
    // 64 symbols: the low 6 bits of a uniform byte are uniform, no modulo bias.
    for (char& c : slug) c = kSlugAlphabet[static_cast<unsigned char>(c) & 63];
  } while (is_reserved_slug(slug));
  return slug;
}

bool is_reserved_slug(std::string_view slug) {
  return std::any_of(kReservedSlugs.begin(), kReservedSlugs.end(),
                     [&](std::string_view word) { return iequals_ascii(slug, word); });
}

Result<void> validate_custom_slug(std::string_view slug) {
  if (!length_ok(slug.size())) {
    return fail(Errc::invalid_input, "slug must be 3 to 64 characters");
  }
  if (!all_slug_chars(slug)) {
    return fail(Errc::invalid_input, "slug may only contain A-Z a-z 0-9 _ -");
  }
  if (is_reserved_slug(slug)) {
    // Safe to echo: the slug passed the character check above.
    return fail(Errc::invalid_input, "slug '" + std::string(slug) + "' is reserved");
  }
  return {};
}

std::optional<SlugPath> parse_slug_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  SlugPath result;
  result.slug = path.substr(1);
  if (!result.slug.empty() && result.slug.back() == '+') {
    result.preview = true;
    result.slug.remove_suffix(1);
  }
  // Shorter than kMinSlugLength cannot name any link, so it is not worth a store lookup.
  if (!length_ok(result.slug.size()) || !all_slug_chars(result.slug)) return std::nullopt;
  return result;
}

}  // namespace shortener
