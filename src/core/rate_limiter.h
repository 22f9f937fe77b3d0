#pragma once

#include <string_view>

#include "core/error.h"

namespace shortener {

// Port: admission control keyed by a string (the client IP for anonymous link creation).
// In-process here; shared across replicas through Redis in production mode.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // 0 when admitted, otherwise the seconds to wait before the next attempt can succeed.
  virtual int acquire(std::string_view key) = 0;
};

}  // namespace shortener
