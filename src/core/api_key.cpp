#include "core/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "core/slug.h"

namespace shortener {
namespace {

constexpr int kApiKeySymbols = 40;      // 40 * 6 bits = 240 bits
constexpr int kStatsTokenSymbols = 24;  // 24 * 6 bits = 144 bits

// Same construction as random_slug: 64 symbols, so masking a byte with 63 is unbiased.
std::string random_symbols(int count) {
  std::string bytes(static_cast<std::size_t>(count), '\0');
  random_bytes(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  for (char& c : bytes) c = kSlugAlphabet[static_cast<unsigned char>(c) & 63];
  return bytes;
}

}  // namespace

void random_bytes(unsigned char* out, std::size_t n) {
  while (n > 0) {
    // Flags 0: block until the pool is initialised at boot, never afterwards. Large requests
    // may come back short, and a signal may interrupt; both just mean "ask again".
    const ssize_t got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

std::string generate_api_key() {
  return "sk_" + random_symbols(kApiKeySymbols);
}

std::string generate_stats_token() {
  return random_symbols(kStatsTokenSymbols);
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest(sha256) failed");  // only on allocation failure
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{size} * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

bool secure_equal(std::string_view a, std::string_view b) {
  // The length is not secret (keys and hashes have fixed formats); the contents are.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace shortener
