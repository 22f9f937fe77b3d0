#include "worker/enrich/bot_detector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "test_data.h"

namespace shortener::enrich {
namespace {

struct Loaded {
  std::unique_ptr<UserAgentParser> parser;
  std::unique_ptr<BotDetector> detector;
};

const Loaded& shared() {
  static const Loaded loaded = [] {
    Loaded l;
    if (auto p = UserAgentParser::load(test::uap_regexes())) {
      l.parser = std::make_unique<UserAgentParser>(std::move(*p));
    }
    if (auto d = BotDetector::load(test::crawler_list())) {
      l.detector = std::make_unique<BotDetector>(std::move(*d));
    }
    return l;
  }();
  return loaded;
}

class BotDetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::data_file(test::uap_regexes()));
    ASSERT_TRUE(test::data_file(test::crawler_list()));
    ASSERT_NE(shared().parser, nullptr);
    ASSERT_NE(shared().detector, nullptr);
  }
  BotVerdict detect(const std::string& ua) const {
    return shared().detector->detect(ua, shared().parser->parse(ua));
  }
};

struct BotCase {
  std::string name;
  std::string ua;
  BotReason reason;
};

TEST_F(BotDetectorTest, FlagsBotsWithTheirReason) {
  const std::vector<BotCase> cases = {
      {"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
       BotReason::ua_list},
      {"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
       BotReason::ua_list},
      {"curl", "curl/8.5.0", BotReason::ua_list},
      {"python_requests", "python-requests/2.31.0", BotReason::ua_list},
      {"headless_chrome",
       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "HeadlessChrome/120.0.0.0 Safari/537.36",
       BotReason::ua_list},
      {"slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
       BotReason::ua_list},
      {"twitterbot", "Twitterbot/1.0", BotReason::ua_list},
      {"facebook", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
       BotReason::ua_list},
      {"whatsapp", "WhatsApp/2.23.20.0", BotReason::ua_list},
      {"telegram", "TelegramBot (like TwitterBot)", BotReason::ua_list},
      {"discord", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
       BotReason::ua_list},
      {"bluesky_not_in_list", "Bluesky Cardyb/1.1", BotReason::link_preview},
      {"uap_only_spider", "AcmeSearchBot/2.0", BotReason::uap_spider},
      {"empty", "", BotReason::empty_ua},
      {"blank", " \t ", BotReason::empty_ua},
      {"chrome",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36",
       BotReason::none},
      {"iphone",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
       "(KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
       BotReason::none},
      {"instagram_in_app",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) Mobile/15E148 Instagram 309.1.0.41.113 (iPhone14,5; iOS 17_1; en_US; en)",
       BotReason::none},
      {"garbage", "\x01\xff((((", BotReason::none},
      {"8kb", std::string(8192, 'a'), BotReason::none},
  };
  for (const BotCase& c : cases) {
    SCOPED_TRACE(c.name);
    const BotVerdict verdict = detect(c.ua);
    EXPECT_EQ(to_string(verdict.reason), to_string(c.reason));
    EXPECT_EQ(verdict.is_bot(), c.reason != BotReason::none);
  }
}

TEST_F(BotDetectorTest, BotsAreStoredWithTheBotClass) {
  const std::string ua = "curl/8.5.0";
  const UserAgent parsed = shared().parser->parse(ua);
  EXPECT_EQ(parsed.device_class, DeviceClass::other);
  EXPECT_EQ(stored_device_class(parsed, detect(ua)), DeviceClass::bot);
}

TEST_F(BotDetectorTest, ReportsPatternCounts) {
  const auto info = shared().detector->info();
  EXPECT_GE(info.list_patterns, 1000u);
  EXPECT_EQ(info.list_compiled + info.list_skipped, info.list_patterns);
  EXPECT_EQ(info.list_skipped, 0u) << "crawler-user-agents promises RE2-compatible patterns";
  EXPECT_GT(info.link_preview_patterns, 10u);
  EXPECT_EQ(shared().detector->set_fallbacks(), 0u);
}

class BotListFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& content) {
    path_ = std::filesystem::temp_directory_path() / "enrich_bot_list.json";
    std::ofstream(path_) << content;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(BotListFileTest, SkipsPatternsRe2CannotCompile) {
  auto detector = BotDetector::load(
      write(R"([{"pattern": "Good\\/bot"}, {"pattern": "(?<!x)lookbehind"}, {"pattern": "ok"}])"));
  ASSERT_TRUE(detector) << detector.error().detail;
  EXPECT_EQ(detector->info().list_compiled, 2u);
  EXPECT_EQ(detector->info().list_skipped, 1u);
  EXPECT_EQ(detector->detect("Good/bot 1.0", UserAgent{}).reason, BotReason::ua_list);
}

TEST_F(BotListFileTest, RejectsFilesThatAreNotAPatternList) {
  for (const std::string& content :
       {std::string(R"({"pattern": "x"})"), std::string(R"([{"url": "no pattern"}])"),
        std::string("[{\"pattern\": \"(?<!only-bad)\"}]")}) {
    auto detector = BotDetector::load(write(content));
    ASSERT_FALSE(detector) << content;
    EXPECT_EQ(detector.error().code, Errc::invalid_input);
  }
  auto missing = BotDetector::load("/nonexistent/crawler-user-agents.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace shortener::enrich
