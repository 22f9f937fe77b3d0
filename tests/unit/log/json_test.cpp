// JSON string escaping (table-driven, hostile inputs included) and RFC 3339 timestamps.
#include "log/json.h"

#include <gtest/gtest.h>
#include <spdlog/fmt/fmt.h>

#include <boost/json/parse.hpp>
#include <random>
#include <string>
#include <vector>

namespace shortener::logging {
namespace {

using namespace std::chrono;

std::string json_quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

struct Case {
  std::string input;
  std::string json;  // expected output without the surrounding quotes
};

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  const std::vector<Case> cases = {
      {"", ""},
      {"plain text 123", "plain text 123"},
      {"say \"hi\"", "say \\\"hi\\\""},
      {"C:\\path", "C:\\\\path"},
      {"two\nlines", "two\\nlines"},
      {"cr\rlf", "cr\\rlf"},
      {"tab\there", "tab\\there"},
      {std::string("nul\0byte", 8), "nul\\u0000byte"},
      {"\x01\x1f", "\\u0001\\u001f"},
      {"\x1b[31mred", "\\u001b[31mred"},  // terminal escapes stay inert
      {"del\x7f", "del\\u007f"},
      {"/slash/", "/slash/"},
      {"\"}\n{\"level\":\"error\"", "\\\"}\\n{\\\"level\\\":\\\"error\\\""},
  };
  for (const auto& c : cases) EXPECT_EQ(json_quoted(c.input), "\"" + c.json + "\"") << c.input;
}

TEST(JsonStringTest, KeepsWellFormedUtf8) {
  for (std::string text : {"caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80", "\xe4\xb8\xad"})
    EXPECT_EQ(json_quoted(text), "\"" + text + "\"");
}

TEST(JsonStringTest, ReplacesIllFormedUtf8) {
  const std::vector<Case> cases = {
      {"\xff", "\\ufffd"},
      {"\x80", "\\ufffd"},                                   // stray continuation byte
      {"a\xc3", "a\\ufffd"},                                 // truncated at the end
      {"\xc3(", "\\ufffd("},                                 // bad continuation
      {"\xc0\xaf", "\\ufffd\\ufffd"},                        // overlong '/'
      {"\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"},             // overlong, 3 bytes
      {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},             // UTF-16 surrogate
      {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},  // beyond U+10FFFF
      {"\xf5\x80", "\\ufffd\\ufffd"},
  };
  for (const auto& c : cases) EXPECT_EQ(json_quoted(c.input), "\"" + c.json + "\"");
}

// Whatever the bytes, the output is one line of valid JSON that decodes to the input where the
// input was well-formed.
TEST(JsonStringTest, AnyBytesGiveOneParseableLine) {
  std::mt19937 random(42);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 40);
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    for (int n = length(random); n > 0; --n) text.push_back(static_cast<char>(byte(random)));
    std::string json = json_quoted(text);
    ASSERT_EQ(json.find('\n'), std::string::npos);
    boost::system::error_code ec;
    auto value = boost::json::parse(json, ec);
    ASSERT_FALSE(ec) << ec.message() << " for " << json;
    ASSERT_TRUE(value.is_string());
  }
  for (std::string text : {"a\"b\\c\n\x01", "caf\xc3\xa9 \xf0\x9f\x98\x80"}) {
    auto value = boost::json::parse(json_quoted(text));
    EXPECT_EQ(std::string(value.as_string()), text);
  }
}

TEST(JsonStringTest, WorksWithFmtBuffers) {
  fmt::memory_buffer buffer;
  append_json_string(buffer, "a\"b");
  EXPECT_EQ(fmt::to_string(buffer), "\"a\\\"b\"");
}

TEST(Utf8Test, SequenceLengths) {
  EXPECT_EQ(utf8_sequence_length("a"), 1u);
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9"), 2u);
  EXPECT_EQ(utf8_sequence_length("\xef\xbf\xbd"), 3u);
  EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xc1\xbf"), 0u);
  EXPECT_EQ(utf8_sequence_length("\xf0\x8f\xbf\xbf"), 0u);  // overlong
}

std::string timestamp(system_clock::time_point time) {
  auto text = utc_timestamp(time);
  return std::string(text.data(), text.size());
}

TEST(TimestampTest, Rfc3339UtcMicroseconds) {
  auto day = sys_days{year{2026} / 11 / 29};
  EXPECT_EQ(timestamp(day + 12h + 123456us), "2026-11-29T12:00:00.123456Z");
  EXPECT_EQ(timestamp(day + 12h + 1s + 7us), "2026-11-29T12:00:01.000007Z");  // next second
  EXPECT_EQ(timestamp(day + 12h + 123456us), "2026-11-29T12:00:00.123456Z");  // and back
  EXPECT_EQ(timestamp(sys_days{year{1970} / 1 / 1}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(timestamp(day + 23h + 59min + 59s + 999999us + 999ns), "2026-11-29T23:59:59.999999Z");
}

}  // namespace
}  // namespace shortener::logging
