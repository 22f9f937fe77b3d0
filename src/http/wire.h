// HTTP/1.1 response serialisation and the content types used across routes. No Beast here:
// responses are small and their shape is fixed, so we write them directly into a reused buffer.
#pragma once

#include <string>
#include <string_view>

#include "http/response.h"

namespace shortener::http {

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
inline constexpr std::string_view kTextHtml = "text/html; charset=utf-8";
inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kProblemJson = "application/problem+json";
inline constexpr std::string_view kNoStore = "no-store";

std::string_view reason_phrase(int status);

// Appends the status line, headers (Date, Content-Type, Location, Cache-Control, extra headers,
// X-Request-Id, Content-Length, Connection) and, unless head_only, the body to `out` (cleared
// first).
void serialize_response(const Response& response, bool head_only, bool keep_alive, bool http10,
                        std::string& out);

}  // namespace shortener::http
