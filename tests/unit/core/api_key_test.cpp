// API keys, stats tokens, hashing and constant-time comparison.
#include "core/api_key.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

#include "core/slug.h"

namespace shortener {
namespace {

TEST(ApiKeyTest, FormatIsSkPrefixAnd40AlphabetSymbols) {
  const std::string key = generate_api_key();
  ASSERT_EQ(key.size(), 43u);
  EXPECT_EQ(key.substr(0, 3), "sk_");
  EXPECT_EQ(key.find_first_not_of(kSlugAlphabet, 3), std::string::npos);
}

TEST(ApiKeyTest, StatsTokenIs24AlphabetSymbols) {
  const std::string token = generate_stats_token();
  ASSERT_EQ(token.size(), 24u);
  EXPECT_EQ(token.find_first_not_of(kSlugAlphabet), std::string::npos);
}

TEST(ApiKeyTest, SecretsAreDistinct) {
  std::set<std::string> keys, tokens;
  for (int i = 0; i < 1000; ++i) {
    keys.insert(generate_api_key());
    tokens.insert(generate_stats_token());
  }
  EXPECT_EQ(keys.size(), 1000u);
  EXPECT_EQ(tokens.size(), 1000u);
}

TEST(RandomBytesTest, FillsLargeAndEmptyBuffers) {
  std::array<unsigned char, 4096> a{}, b{};
  random_bytes(a.data(), a.size());
  random_bytes(b.data(), b.size());
  EXPECT_NE(a, b);
  random_bytes(nullptr, 0);  // a no-op, not a crash
}

struct ShaCase {
  std::string input;
  std::string hex;
};

class Sha256Test : public testing::TestWithParam<ShaCase> {};

TEST_P(Sha256Test, MatchesKnownVector) {
  EXPECT_EQ(sha256_hex(GetParam().input), GetParam().hex);
}

// FIPS 180-2 / NIST test vectors.
INSTANTIATE_TEST_SUITE_P(
    Vectors, Sha256Test,
    testing::Values(ShaCase{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                    ShaCase{"abc",
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
                    ShaCase{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
                    ShaCase{std::string(1'000'000, 'a'),
                            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
                    ShaCase{std::string("\0", 1),
                            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}));

TEST(SecureEqualTest, ComparesContentAndLength) {
  EXPECT_TRUE(secure_equal("", ""));
  EXPECT_TRUE(secure_equal("sk_abc", "sk_abc"));
  EXPECT_FALSE(secure_equal("sk_abc", "sk_abd"));
  EXPECT_FALSE(secure_equal("sk_abc", "sk_ab"));
  EXPECT_FALSE(secure_equal("sk_ab", "sk_abc"));
  EXPECT_FALSE(secure_equal("", "x"));
  EXPECT_TRUE(secure_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(secure_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(SecureEqualTest, WorksOnStoredHashes) {
  const std::string key = generate_api_key();
  EXPECT_TRUE(secure_equal(sha256_hex(key), sha256_hex(key)));
  EXPECT_FALSE(secure_equal(sha256_hex(key), sha256_hex(key + "x")));
}

}  // namespace
}  // namespace shortener
