#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace shortener {
namespace {

using namespace std::string_literals;

TEST(Utf8, SequenceLengthOfWellFormedLeads) {
  EXPECT_EQ(utf8_sequence_length("a"), 1u);
  EXPECT_EQ(utf8_sequence_length("\0x"s), 1u);  // NUL is ASCII; callers that refuse it say so
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9z"), 2u);
  EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac"), 3u);
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80"), 4u);
}

TEST(Utf8, IllFormedSequencesAreZero) {
  for (const char* bad : {"\x80", "\xc0\xaf", "\xc3", "\xe0\x80\x80", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xe2\x28\xa1"})
    EXPECT_EQ(utf8_sequence_length(bad), 0u) << bad;
}

TEST(Utf8, WholeTextValidity) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("Zürich, 東京 😀"));
  EXPECT_FALSE(is_valid_utf8("ok\xffok"));
  EXPECT_FALSE(is_valid_utf8("cut \xe2\x82"));
}

}  // namespace
}  // namespace shortener
