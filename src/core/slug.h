// Slugs: random ones from nanoid's alphabet and a CSPRNG, custom ones checked against the rules,
// and the request-path shapes that carry a slug (`/abc`, `/abc+` preview).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace shortener {

// nanoid's 64-symbol URL-safe alphabet (its `urlAlphabet`): 64 symbols, so a random byte
// masked with 63 picks a symbol without modulo bias.
inline constexpr std::string_view kSlugAlphabet =
    "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";
inline constexpr int kDefaultSlugLength = 7;  // 64^7 = 4.4e12 slugs
inline constexpr int kMinSlugLength = 3;
inline constexpr int kMaxSlugLength = 64;

// `length` symbols from kSlugAlphabet, from the OS CSPRNG. Never returns a reserved word.
// `length` outside [kMinSlugLength, kMaxSlugLength] is a bug: std::invalid_argument.
std::string random_slug(int length = kDefaultSlugLength);

// Paths the shortener itself serves: api, dashboard, static, assets, healthz, readyz, metrics...
// Case-insensitive, so "API" cannot pose as ours either. The list is one table in slug.cpp.
bool is_reserved_slug(std::string_view slug);

// Custom slug rules: [A-Za-z0-9_-], 3..64 chars, not reserved. Errc::invalid_input with a
// precise detail otherwise.
Result<void> validate_custom_slug(std::string_view slug);

// A request path that addresses a link: "/{slug}" (redirect) or "/{slug}+" (preview).
struct SlugPath {
  std::string_view slug;
  bool preview = false;
};
// nullopt when the path is not of that shape (other characters, nested path, empty, a query:
// the caller strips it first). Only checks the character set and the length (3..64), not
// reservation.
std::optional<SlugPath> parse_slug_path(std::string_view path);

}  // namespace shortener
