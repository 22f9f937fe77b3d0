#include "worker/enrich/visitor_hash.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace shortener::enrich {
namespace {

constexpr std::size_t kBlock = 64;  // SHA-256 block size: the HMAC key pad length

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

MdCtx new_ctx() {
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  return ctx;
}

void check(int ok) {
  // Only allocation failures or a broken OpenSSL get here: a bug, not an input problem.
  if (ok != 1) throw std::runtime_error("OpenSSL SHA-256 failed");
}

// Fields are length-prefixed so ("a", "bc") and ("ab", "c") hash differently.
void update_field(EVP_MD_CTX* ctx, std::string_view field) {
  const auto n = static_cast<std::uint32_t>(field.size());
  const std::array<unsigned char, 4> length = {
      static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
      static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  check(EVP_DigestUpdate(ctx, length.data(), length.size()));
  check(EVP_DigestUpdate(ctx, field.data(), field.size()));
}

}  // namespace

// RFC 2104 HMAC with the inner and outer pads absorbed once, at construction.
struct VisitorHasher::Impl {
  MdCtx inner = new_ctx();
  MdCtx outer = new_ctx();
};

VisitorHasher::VisitorHasher(std::string_view salt) : impl_(std::make_unique<Impl>()) {
  std::array<unsigned char, kBlock> key{};
  if (salt.size() > kBlock) {
    unsigned int n = 0;
    check(EVP_Digest(salt.data(), salt.size(), key.data(), &n, EVP_sha256(), nullptr));
  } else {
    std::copy(salt.begin(), salt.end(), key.begin());
  }
  std::array<unsigned char, kBlock> ipad{}, opad{};
  for (std::size_t i = 0; i < kBlock; ++i) {
    ipad[i] = key[i] ^ 0x36;
    opad[i] = key[i] ^ 0x5c;
  }
  check(EVP_DigestInit_ex(impl_->inner.get(), EVP_sha256(), nullptr));
  check(EVP_DigestUpdate(impl_->inner.get(), ipad.data(), ipad.size()));
  check(EVP_DigestInit_ex(impl_->outer.get(), EVP_sha256(), nullptr));
  check(EVP_DigestUpdate(impl_->outer.get(), opad.data(), opad.size()));
}

VisitorHasher::VisitorHasher(VisitorHasher&&) noexcept = default;
VisitorHasher& VisitorHasher::operator=(VisitorHasher&&) noexcept = default;
VisitorHasher::~VisitorHasher() = default;

std::uint64_t VisitorHasher::hash(std::string_view ip, std::string_view user_agent,
                                  VisitorDay day) const {
  MdCtx ctx = new_ctx();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  check(EVP_MD_CTX_copy_ex(ctx.get(), impl_->inner.get()));
  update_field(ctx.get(), ip);
  update_field(ctx.get(), user_agent);
  update_field(ctx.get(), std::to_string(day));
  check(EVP_DigestFinal_ex(ctx.get(), digest.data(), &n));
  check(EVP_MD_CTX_copy_ex(ctx.get(), impl_->outer.get()));
  check(EVP_DigestUpdate(ctx.get(), digest.data(), n));
  check(EVP_DigestFinal_ex(ctx.get(), digest.data(), &n));
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < 8; ++i) out = (out << 8) | digest[i];
  return out;
}

std::uint64_t unique_visitor_hash(std::string_view salt, std::string_view ip,
                                  std::string_view user_agent, VisitorDay day) {
  return VisitorHasher(salt).hash(ip, user_agent, day);
}

std::string visitor_hash_hex(std::uint64_t hash) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<std::size_t>(i)] = kDigits[hash & 0xf];
  return out;
}

}  // namespace shortener::enrich
