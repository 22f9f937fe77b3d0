// Slug generation, custom slug rules and the request-path shapes that carry a slug.
#include "core/slug.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace shortener {
namespace {

TEST(RandomSlugTest, DefaultLengthAndAlphabet) {
  const std::string slug = random_slug();
  EXPECT_EQ(slug.size(), static_cast<std::size_t>(kDefaultSlugLength));
  EXPECT_EQ(slug.find_first_not_of(kSlugAlphabet), std::string::npos);
}

TEST(RandomSlugTest, AlphabetHas64DistinctUrlSafeSymbols) {
  ASSERT_EQ(kSlugAlphabet.size(), 64u);
  EXPECT_EQ(std::set<char>(kSlugAlphabet.begin(), kSlugAlphabet.end()).size(), 64u);
  for (const char c : kSlugAlphabet) {
    EXPECT_TRUE(validate_custom_slug(std::string("z") + c + "9").has_value()) << c;
  }
}

// A sanity check of the distribution, not a statistical test: 70,000 symbols give each of the
// 64 an expected count of ~1,094, so "seen at least once" and "no symbol above 2x" never
// fail for a fair generator.
TEST(RandomSlugTest, TenThousandSlugsAreValidDistinctAndCoverTheAlphabet) {
  constexpr int kCount = 10'000;
  std::set<std::string> seen;
  std::vector<int> per_symbol(256, 0);
  for (int i = 0; i < kCount; ++i) {
    const std::string slug = random_slug();
    ASSERT_TRUE(validate_custom_slug(slug).has_value()) << slug;
    ASSERT_TRUE(parse_slug_path("/" + slug).has_value()) << slug;
    seen.insert(slug);
    for (const char c : slug) ++per_symbol[static_cast<unsigned char>(c)];
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  const int expected = kCount * kDefaultSlugLength / 64;
  for (const char c : kSlugAlphabet) {
    EXPECT_GT(per_symbol[static_cast<unsigned char>(c)], 0) << c;
    EXPECT_LT(per_symbol[static_cast<unsigned char>(c)], 2 * expected) << c;
  }
}

TEST(RandomSlugTest, LengthBounds) {
  EXPECT_EQ(random_slug(kMinSlugLength).size(), 3u);
  EXPECT_EQ(random_slug(kMaxSlugLength).size(), 64u);
  EXPECT_THROW(random_slug(2), std::invalid_argument);
  EXPECT_THROW(random_slug(65), std::invalid_argument);
}

TEST(RandomSlugTest, ShortSlugsAreNeverReserved) {
  // 3 symbols: "api" has a chance of 1 in 262,144 per draw; the retry must hide it.
  for (int i = 0; i < 20'000; ++i) ASSERT_FALSE(is_reserved_slug(random_slug(3)));
}

TEST(ReservedSlugTest, WordsAreReservedInAnyCase) {
  for (const char* word :
       {"api",      "API",     "Api",   "dashboard", "static", "assets", "healthz",
        "readyz",   "metrics", "admin", "login",     "logout", "signin", "signup",
        "settings", "www",     "app",   "docs",      "help",   "about",  "live",
        "stats",    "qr",      "QR",    "DashBoard"}) {
    EXPECT_TRUE(is_reserved_slug(word)) << word;
  }
  for (const char* word : {"apis", "ap", "api-", "my-dashboard", "healthzz", "", "abc"}) {
    EXPECT_FALSE(is_reserved_slug(word)) << word;
  }
}

struct SlugCase {
  std::string slug;
  std::string error;  // empty: valid
};

class ValidateCustomSlugTest : public testing::TestWithParam<SlugCase> {};

TEST_P(ValidateCustomSlugTest, MatchesTable) {
  const auto result = validate_custom_slug(GetParam().slug);
  if (GetParam().error.empty()) {
    EXPECT_TRUE(result.has_value()) << result.error().detail;
  } else {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, Errc::invalid_input);
    EXPECT_EQ(result.error().detail, GetParam().error);
  }
}

const std::string kLength = "slug must be 3 to 64 characters";
const std::string kChars = "slug may only contain A-Z a-z 0-9 _ -";

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateCustomSlugTest,
    testing::Values(SlugCase{"abc", ""}, SlugCase{"My_Link-2026", ""}, SlugCase{"---", ""},
                    SlugCase{"ab", kLength}, SlugCase{"", kLength},
                    SlugCase{std::string(64, 'x'), ""}, SlugCase{std::string(65, 'x'), kLength},
                    SlugCase{"a.b", kChars}, SlugCase{"a b", kChars}, SlugCase{"a/b", kChars},
                    SlugCase{"abc+", kChars}, SlugCase{"caf\xc3\xa9", kChars},
                    SlugCase{"a%20", kChars}, SlugCase{std::string("ab\0c", 4), kChars},
                    SlugCase{"api", "slug 'api' is reserved"},
                    SlugCase{"Dashboard", "slug 'Dashboard' is reserved"}, SlugCase{"apis", ""}));

struct PathCase {
  std::string path;
  bool ok;
  std::string slug;
  bool preview;
};

class ParseSlugPathTest : public testing::TestWithParam<PathCase> {};

TEST_P(ParseSlugPathTest, MatchesTable) {
  const PathCase& c = GetParam();
  const auto parsed = parse_slug_path(c.path);
  ASSERT_EQ(parsed.has_value(), c.ok) << c.path;
  if (!c.ok) return;
  EXPECT_EQ(parsed->slug, c.slug);
  EXPECT_EQ(parsed->preview, c.preview);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseSlugPathTest,
    testing::Values(PathCase{"/abc", true, "abc", false}, PathCase{"/abc+", true, "abc", true},
                    PathCase{"/A_b-9", true, "A_b-9", false},
                    PathCase{"/api", true, "api", false},  // reservation is not its job
                    PathCase{"/" + std::string(64, 'z'), true, std::string(64, 'z'), false},
                    PathCase{"/" + std::string(64, 'z') + "+", true, std::string(64, 'z'), true},
                    PathCase{"/" + std::string(65, 'z'), false, "", false},
                    PathCase{"", false, "", false}, PathCase{"/", false, "", false},
                    PathCase{"/+", false, "", false}, PathCase{"/ab", false, "", false},
                    PathCase{"abc", false, "", false}, PathCase{"/a/b", false, "", false},
                    PathCase{"/abc/", false, "", false}, PathCase{"//abc", false, "", false},
                    PathCase{"/abc?x", false, "", false}, PathCase{"/abc#x", false, "", false},
                    PathCase{"/abc++", false, "", false}, PathCase{"/a+bc", false, "", false},
                    PathCase{"/abc%20", false, "", false}, PathCase{"/ab.c", false, "", false},
                    PathCase{"/favicon.ico", false, "", false}));

}  // namespace
}  // namespace shortener
