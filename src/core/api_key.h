// API keys and link stats tokens: random secrets from the OS CSPRNG. Keys are stored only as
// their SHA-256 (hex); a leaked database does not leak keys.
#pragma once

#include <string>
#include <string_view>

namespace shortener {

// "sk_" + 40 symbols of the slug alphabet (240 bits).
std::string generate_api_key();
// 24 symbols of the slug alphabet (144 bits).
std::string generate_stats_token();
// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view data);
// Fills `out` with `n` bytes from getrandom(2). Throws std::system_error if the OS fails.
void random_bytes(unsigned char* out, std::size_t n);
// Constant-time equality for secrets.
bool secure_equal(std::string_view a, std::string_view b);

}  // namespace shortener
