// Query-string access with percent-decoding ('+' is a space, as browsers encode forms).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shortener::http {

// The decoded value of the first `name` parameter; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// Percent-decodes; a malformed escape stays as written (as WHATWG URL decoding does).
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace shortener::http
