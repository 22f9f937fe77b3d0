// RFC 3339 parsing and formatting.
#include "core/time.h"

#include <gtest/gtest.h>

#include <string>

namespace shortener {
namespace {

constexpr TimeUs kSecond = 1'000'000;
constexpr TimeUs kDay = 86'400 * kSecond;
// 2026-01-02T03:04:05Z: 20,455 days after the epoch plus 03:04:05.
constexpr TimeUs kRef = 20'455 * kDay + (3 * 3600 + 4 * 60 + 5) * kSecond;

struct ParseCase {
  std::string text;
  std::optional<TimeUs> want;
};

class ParseRfc3339Test : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseRfc3339Test, MatchesTable) {
  EXPECT_EQ(parse_rfc3339(GetParam().text), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, ParseRfc3339Test,
    testing::Values(
        ParseCase{"1970-01-01T00:00:00Z", 0}, ParseCase{"2026-01-02T03:04:05Z", kRef},
        ParseCase{"2026-01-02t03:04:05z", kRef},
        ParseCase{"2026-01-02T03:04:05.5Z", kRef + 500'000},
        ParseCase{"2026-01-02T03:04:05.123Z", kRef + 123'000},
        ParseCase{"2026-01-02T03:04:05.123456Z", kRef + 123'456},
        ParseCase{"2026-01-02T03:04:05.123456789Z", kRef + 123'456},  // truncated, not rounded
        ParseCase{"2026-01-02T03:04:05.999999999Z", kRef + 999'999},
        ParseCase{"2026-01-02T04:34:05+01:30", kRef}, ParseCase{"2026-01-01T23:04:05-04:00", kRef},
        ParseCase{"2026-01-02T03:04:05+00:00", kRef}, ParseCase{"2026-01-02T03:04:05-00:00", kRef},
        ParseCase{"2026-01-03T02:03:05+23:59", kRef - 3600 * kSecond},
        ParseCase{"2000-02-29T00:00:00Z", 11'016 * kDay},  // divisible by 400: leap
        ParseCase{"2024-02-29T12:00:00Z", 19'782 * kDay + 12 * 3600 * kSecond},
        ParseCase{"1970-01-01T01:00:00+01:00", 0},
        ParseCase{"9999-12-31T23:59:59Z", 253'402'300'799 * kSecond}));

INSTANTIATE_TEST_SUITE_P(
    Invalid, ParseRfc3339Test,
    testing::Values(ParseCase{"", std::nullopt}, ParseCase{"2026-01-02", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05", std::nullopt},   // offset required
                    ParseCase{"2026-01-02 03:04:05Z", std::nullopt},  // 'T' required
                    ParseCase{"2026-13-02T03:04:05Z", std::nullopt},
                    ParseCase{"2026-00-02T03:04:05Z", std::nullopt},
                    ParseCase{"2026-01-00T03:04:05Z", std::nullopt},
                    ParseCase{"2026-01-32T03:04:05Z", std::nullopt},
                    ParseCase{"2026-02-29T00:00:00Z", std::nullopt},  // not a leap year
                    ParseCase{"1900-02-29T00:00:00Z", std::nullopt},  // and before 1970 anyway
                    ParseCase{"2100-02-29T00:00:00Z", std::nullopt},  // divisible by 100, not 400
                    ParseCase{"2026-02-30T00:00:00Z", std::nullopt},
                    ParseCase{"2026-04-31T00:00:00Z", std::nullopt},
                    ParseCase{"2026-01-02T24:00:00Z", std::nullopt},
                    ParseCase{"2026-01-02T03:60:05Z", std::nullopt},
                    ParseCase{"2026-01-02T03:04:60Z", std::nullopt},  // leap second
                    ParseCase{"2026-01-02T03:04:05.Z", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05.1234567890Z", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05+24:00", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05+01:60", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05+0100", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05+01", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05ZZ", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05Z ", std::nullopt},
                    ParseCase{" 2026-01-02T03:04:05Z", std::nullopt},
                    ParseCase{"26-01-02T03:04:05Z", std::nullopt},
                    ParseCase{"2026-1-02T03:04:05Z", std::nullopt},
                    ParseCase{"+2026-01-02T03:04:05Z", std::nullopt},
                    ParseCase{"2026-01-02T3:04:05Z", std::nullopt},
                    ParseCase{"1969-12-31T23:59:59Z", std::nullopt},
                    ParseCase{"1970-01-01T00:00:00+00:01",
                              std::nullopt},  // before the epoch in UTC
                    ParseCase{"10000-01-01T00:00:00Z", std::nullopt},
                    ParseCase{"2026-01-02T03:04:05\xef\xbc\xba", std::nullopt}));

struct FormatCase {
  TimeUs t;
  std::string text;
};

class FormatRfc3339Test : public testing::TestWithParam<FormatCase> {};

TEST_P(FormatRfc3339Test, MatchesTableAndRoundTrips) {
  EXPECT_EQ(format_rfc3339(GetParam().t), GetParam().text);
  EXPECT_EQ(parse_rfc3339(GetParam().text), GetParam().t);
}

INSTANTIATE_TEST_SUITE_P(Table, FormatRfc3339Test,
                         testing::Values(FormatCase{0, "1970-01-01T00:00:00Z"},
                                         FormatCase{kRef, "2026-01-02T03:04:05Z"},
                                         FormatCase{kRef + 123'000, "2026-01-02T03:04:05.123Z"},
                                         FormatCase{kRef + 123'456, "2026-01-02T03:04:05.123456Z"},
                                         FormatCase{kRef + 1, "2026-01-02T03:04:05.000001Z"},
                                         FormatCase{kRef + 1'000, "2026-01-02T03:04:05.001Z"},
                                         FormatCase{kRef + 999'999, "2026-01-02T03:04:05.999999Z"},
                                         FormatCase{11'016 * kDay, "2000-02-29T00:00:00Z"},
                                         FormatCase{253'402'300'799 * kSecond + 999'999,
                                                    "9999-12-31T23:59:59.999999Z"}));

TEST(Rfc3339RoundTripTest, EveryDayOfALeapCycleAndSubseconds) {
  // 1461 days cover every month length and one Feb 29; the odd step varies the time of day.
  for (TimeUs t = 11'000 * kDay; t < 12'461 * kDay; t += kDay + 3'723'456'789) {
    const std::string text = format_rfc3339(t);
    ASSERT_EQ(parse_rfc3339(text), t) << text;
  }
}

}  // namespace
}  // namespace shortener
