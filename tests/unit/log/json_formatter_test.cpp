// The JSON line formatter: exact layout, escaping of hostile messages, the fields payload, and
// a real spdlog logger writing parseable lines.
#include "log/json_formatter.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>
#include <sstream>
#include <string>

namespace shortener::logging {
namespace {

using namespace std::chrono;

std::string format(JsonFormatter::Payload payload, spdlog::level::level_enum level,
                   std::string_view logger, std::string_view text) {
  auto time = sys_days{year{2026} / 11 / 29} + 12h + 123456us;
  spdlog::details::log_msg msg(time, spdlog::source_loc{}, logger, level, text);
  spdlog::memory_buf_t out;
  JsonFormatter(payload).format(msg, out);
  return fmt::to_string(out);
}

TEST(JsonFormatterTest, OneObjectPerLine) {
  EXPECT_EQ(format(JsonFormatter::Payload::message, spdlog::level::info, "shortener", "started"),
            R"({"ts":"2026-11-29T12:00:00.123456Z","level":"info","logger":"shortener",)"
            R"("msg":"started"})"
            "\n");
}

TEST(JsonFormatterTest, LevelsUseTheFlagNames) {
  EXPECT_EQ(level_name(spdlog::level::trace), "trace");
  EXPECT_EQ(level_name(spdlog::level::debug), "debug");
  EXPECT_EQ(level_name(spdlog::level::warn), "warn");
  EXPECT_EQ(level_name(spdlog::level::err), "error");
  EXPECT_EQ(level_name(spdlog::level::critical), "critical");
  auto line = format(JsonFormatter::Payload::message, spdlog::level::err, "x", "boom");
  EXPECT_NE(line.find(R"("level":"error")"), std::string::npos) << line;
}

TEST(JsonFormatterTest, HostileMessageStaysOneValidObject) {
  std::string hostile = "quote \" backslash \\ newline \n {\"level\":\"fake\"} \x1b[2J \xff end";
  auto line = format(JsonFormatter::Payload::message, spdlog::level::warn, "a\"b", hostile);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  auto value = boost::json::parse(line);
  const auto& object = value.as_object();
  EXPECT_EQ(object.size(), 4u);
  EXPECT_EQ(object.at("level").as_string(), "warn");
  EXPECT_EQ(object.at("logger").as_string(), "a\"b");
  std::string msg(object.at("msg").as_string());
  EXPECT_EQ(msg.substr(0, 42), hostile.substr(0, 42));
  EXPECT_NE(msg.find("\xef\xbf\xbd end"), std::string::npos);  // the bad byte became U+FFFD
}

TEST(JsonFormatterTest, FieldsPayloadIsSplicedIn) {
  auto line = format(JsonFormatter::Payload::fields, spdlog::level::info, "access",
                     R"("msg":"request","status":302)");
  EXPECT_EQ(line, R"({"ts":"2026-11-29T12:00:00.123456Z","level":"info","logger":"access",)"
                  R"("msg":"request","status":302})"
                  "\n");
}

TEST(JsonFormatterTest, RealLoggerWritesJsonLines) {
  std::ostringstream stream;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
  sink->set_formatter(std::make_unique<JsonFormatter>());
  spdlog::logger logger("shortener", sink);
  logger.set_level(spdlog::level::debug);
  logger.info("replaying {} spooled clicks", 3);
  logger.debug("path {}", "/a\"b\nc");
  logger.trace("not written");
  std::istringstream lines(stream.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    auto value = boost::json::parse(line);
    EXPECT_TRUE(value.as_object().contains("ts"));
    ++count;
  }
  EXPECT_EQ(count, 2);
  EXPECT_NE(stream.str().find(R"("msg":"replaying 3 spooled clicks")"), std::string::npos);
  EXPECT_NE(stream.str().find(R"("msg":"path /a\"b\nc")"), std::string::npos);
}

}  // namespace
}  // namespace shortener::logging
