// Expected failures are values: every fallible domain or port call returns Result<T>.
// They become HTTP statuses in exactly one place (http/problem.cpp).
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace shortener {

enum class Errc {
  invalid_input,      // 400
  unauthorized,       // 401
  not_found,          // 404
  conflict,           // 409
  gone,               // 410
  payload_too_large,  // 413
  unsupported_media,  // 415
  rate_limited,       // 429
  unavailable,        // 503: a backend is down; retry later
  internal,           // 500: a bug or an unexpected backend answer
};

struct Error {
  Errc code;
  std::string detail;
  int retry_after_s = 0;  // rate_limited / unavailable: when a retry can succeed
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string detail) {
  return std::unexpected<Error>(Error{code, std::move(detail)});
}

}  // namespace shortener
