#include "worker/enrich/user_agent.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_data.h"

namespace shortener::enrich {
namespace {

const UserAgentParser* shared_parser() {
  static const auto parser = [] {
    auto loaded = UserAgentParser::load(test::uap_regexes());
    return loaded ? std::make_unique<UserAgentParser>(std::move(*loaded)) : nullptr;
  }();
  return parser.get();
}

class UserAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::data_file(test::uap_regexes()));
    parser_ = shared_parser();
    ASSERT_NE(parser_, nullptr) << "regexes.yaml did not load";
  }
  const UserAgentParser* parser_ = nullptr;
};

struct UaCase {
  std::string name;
  std::string ua;
  std::string browser, major, os, device;
  DeviceClass device_class;
};

std::vector<UaCase> ua_cases() {
  return {
      {"desktop_chrome_windows",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36",
       "Chrome", "120", "Windows", "Other", DeviceClass::desktop},
      {"desktop_safari_mac",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.1 Safari/605.1.15",
       "Safari", "17", "Mac OS X", "Mac", DeviceClass::desktop},
      {"desktop_firefox_ubuntu",
       "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
       "121", "Ubuntu", "Other", DeviceClass::desktop},
      {"desktop_edge",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
       "Edge", "120", "Windows", "Other", DeviceClass::desktop},
      {"chromebook",
       "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36",
       "Chrome", "120", "Chrome OS", "Other", DeviceClass::desktop},
      {"iphone_safari",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
       "like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
       "Mobile Safari", "17", "iOS", "iPhone", DeviceClass::mobile},
      {"iphone_chrome",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
       "Chrome Mobile iOS", "120", "iOS", "iPhone", DeviceClass::mobile},
      {"android_chrome_samsung",
       "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.6099.144 Mobile Safari/537.36",
       "Chrome Mobile", "120", "Android", "Samsung SM-S918B", DeviceClass::mobile},
      {"android_chrome_reduced_ua",
       "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Mobile Safari/537.36",
       "Chrome Mobile", "120", "Android", "K", DeviceClass::mobile},
      {"ipad_safari",
       "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/16.6 Mobile/15E148 Safari/604.1",
       "Mobile Safari", "16", "iOS", "iPad", DeviceClass::tablet},
      {"android_tablet_no_mobile_token",
       "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36",
       "Chrome", "120", "Android", "SM-X700", DeviceClass::tablet},
      {"android_tablet_firefox",
       "Mozilla/5.0 (Android 4.4; Tablet; rv:41.0) Gecko/41.0 Firefox/41.0", "Firefox Mobile", "41",
       "Android", "Generic Tablet", DeviceClass::tablet},
      {"ie_with_tablet_pc_component",
       "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0; SLCC2; .NET CLR "
       "2.0.50727; Tablet PC 2.0)",
       "IE", "10", "Windows", "Other", DeviceClass::desktop},
      {"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
       "Googlebot", "2", "Other", "Spider", DeviceClass::bot},
      {"googlebot_smartphone",
       "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
       "Gecko) Chrome/119.0.6045.199 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
       "+http://www.google.com/bot.html)",
       "Googlebot", "2", "Android", "Spider", DeviceClass::bot},
      {"curl", "curl/8.5.0", "curl", "8", "Other", "Other", DeviceClass::other},
      {"smart_tv",
       "Mozilla/5.0 (Linux; Tizen 2.3; SmartHub; SMART-TV; SmartTV; U; Maple2012) "
       "AppleWebKit/538.1+ (KHTML, like Gecko) TV Safari/538.1+",
       "WebKit Nightly", "538", "Tizen", "Other", DeviceClass::other},
      {"empty", "", "Other", "", "Other", "Other", DeviceClass::other},
      {"blank", "   ", "Other", "", "Other", "Other", DeviceClass::other},
      {"garbage_bytes", "\x01\x02\xff\xfe((((\x7f", "Other", "", "Other", "Other",
       DeviceClass::other},
      {"truncated_mozilla", "Mozilla/5.0 (", "Other", "", "Other", "Other", DeviceClass::other},
      {"8kb_letters", std::string(8192, 'A'), "Other", "", "Other", "Other", DeviceClass::other},
  };
}

TEST_F(UserAgentTest, ClassifiesCommonClients) {
  for (const UaCase& c : ua_cases()) {
    SCOPED_TRACE(c.name);
    const UserAgent ua = parser_->parse(c.ua);
    EXPECT_EQ(ua.browser.family, c.browser);
    EXPECT_EQ(ua.browser.major, c.major);
    EXPECT_EQ(ua.os.family, c.os);
    EXPECT_EQ(ua.device.family, c.device);
    EXPECT_EQ(to_string(ua.device_class), to_string(c.device_class));
  }
}

TEST_F(UserAgentTest, HostileInputsYieldOtherAndNeverCrash) {
  std::mt19937 random(42);  // fixed seed: a failure must reproduce
  std::vector<std::string> inputs = {
      std::string(8192, '('), std::string(8192, '\0'),
      std::string("Mozilla/5.0 (Linux; Android ") + std::string(8192, '1')};
  std::string noise(8192, ' ');
  for (char& c : noise) c = static_cast<char>(random() & 0xff);
  inputs.push_back(noise);
  std::string repeated;
  while (repeated.size() < 8192) repeated += "Mozilla/5.0 (iPhone; CPU iPhone OS ";
  inputs.push_back(repeated);
  for (const std::string& input : inputs) {
    const UserAgent ua = parser_->parse(input);
    EXPECT_FALSE(ua.browser.family.empty());
    EXPECT_FALSE(ua.os.family.empty());
    EXPECT_FALSE(ua.device.family.empty());
  }
  EXPECT_EQ(parser_->parse(std::string(8192, '\0')).browser.family, "Other");
}

TEST_F(UserAgentTest, LongUserAgentIsParsedOnItsPrefix) {
  const std::string chrome =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 ";
  const UserAgent ua = parser_->parse(chrome + std::string(8192, 'x'));
  EXPECT_EQ(ua.browser.family, "Chrome");
  EXPECT_EQ(ua.device_class, DeviceClass::desktop);
}

TEST_F(UserAgentTest, CacheServesRepeatsAndSkipsHugeKeys) {
  auto loaded = UserAgentParser::load(test::uap_regexes(), {.cache_entries = 8});
  ASSERT_TRUE(loaded) << loaded.error().detail;
  const std::string ua = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
  const UserAgent first = loaded->parse(ua);
  const UserAgent second = loaded->parse(ua);
  EXPECT_EQ(first.browser.family, second.browser.family);
  EXPECT_EQ(loaded->stats().cache_misses, 1u);
  EXPECT_EQ(loaded->stats().cache_hits, 1u);

  loaded->parse(std::string(4096, 'z'));
  loaded->parse(std::string(4096, 'z'));
  EXPECT_EQ(loaded->stats().cache_hits, 1u) << "UAs over max_length are never cached";
  for (int i = 0; i < 100; ++i) loaded->parse("client/" + std::to_string(i));
  EXPECT_EQ(loaded->stats().cache_misses, 101u);
}

TEST_F(UserAgentTest, ConcurrentParsesAgreeWithSequentialOnes) {
  std::vector<std::string> uas;
  std::vector<std::string> expected;
  for (const UaCase& c : ua_cases()) {
    uas.push_back(c.ua);
    expected.push_back(parser_->parse_uncached(c.ua).browser.family);
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (std::size_t i = 0; i < uas.size(); ++i) {
          if (parser_->parse(uas[i]).browser.family != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST_F(UserAgentTest, ReportsCompiledRulesAndMemoryCap) {
  const auto info = parser_->info();
  EXPECT_GT(info.browser_rules, 300u);
  EXPECT_GT(info.os_rules, 150u);
  EXPECT_GT(info.device_rules, 500u);
  EXPECT_GT(info.regex_memory_cap, 0);
  EXPECT_EQ(parser_->stats().set_fallbacks, 0u);
}

class UserAgentLoadTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() / ("enrich_ua_" + name);
    std::ofstream(path) << content;
    paths_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& path : paths_) std::filesystem::remove(path);
  }
  std::vector<std::filesystem::path> paths_;
};

TEST_F(UserAgentLoadTest, MissingFileIsUnavailable) {
  auto parser = UserAgentParser::load("/nonexistent/regexes.yaml");
  ASSERT_FALSE(parser);
  EXPECT_EQ(parser.error().code, Errc::unavailable);
}

TEST_F(UserAgentLoadTest, BrokenFilesAreInvalidInput) {
  const std::string sections = "os_parsers:\n  - regex: 'x'\ndevice_parsers:\n  - regex: 'y'\n";
  for (const std::string& content : {
           std::string("user_agent_parsers: [unclosed\n"),
           std::string("user_agent_parsers:\n  - regex: '(?<=lookbehind)x'\n") + sections,
           std::string("user_agent_parsers:\n  - family_replacement: 'no regex'\n") + sections,
           sections,
       }) {
    auto parser = UserAgentParser::load(write("broken.yaml", content));
    ASSERT_FALSE(parser) << content;
    EXPECT_EQ(parser.error().code, Errc::invalid_input) << parser.error().detail;
  }
}

TEST_F(UserAgentLoadTest, AppliesReplacementsAndCaseFlag) {
  const std::string path = write("tiny.yaml", R"(user_agent_parsers:
  - regex: '(Foo)Browser/(\d+)\.(\d+)'
    family_replacement: '$1 Browser'
    v2_replacement: 'x'
os_parsers:
  - regex: 'FooOS (\d+)'
    os_replacement: 'Foo OS'
    os_v1_replacement: '$1'
device_parsers:
  - regex: '; (acme) ([a-z]+);'
    regex_flag: 'i'
    device_replacement: 'Acme $2'
    brand_replacement: 'Acme'
    model_replacement: '  $2  '
)");
  auto parser = UserAgentParser::load(path);
  ASSERT_TRUE(parser) << parser.error().detail;
  const UserAgent ua = parser->parse("FooBrowser/3.4 (FooOS 9; ACME Rocket;)");
  EXPECT_EQ(ua.browser.family, "Foo Browser");
  EXPECT_EQ(ua.browser.major, "3");
  EXPECT_EQ(ua.browser.minor, "x");
  EXPECT_EQ(ua.os.family, "Foo OS");
  EXPECT_EQ(ua.os.major, "9");
  EXPECT_EQ(ua.device.family, "Acme Rocket");
  EXPECT_EQ(ua.device.brand, "Acme");
  EXPECT_EQ(ua.device.model, "Rocket");
}

// Rules starting with a `^.{0,N}?` window run as an unanchored search plus a start check;
// the result must be what the anchored pattern gives.
TEST_F(UserAgentLoadTest, WindowPrefixKeepsItsMeaning) {
  const std::string path = write("window.yaml", R"(user_agent_parsers:
  - regex: '^.{0,5}?(Foo)/(\d+)'
  - regex: '^.{0,3}?Nope|(Alt)/(\d+)'
  - regex: '(Fallback)'
os_parsers:
  - regex: '^.{0,4}(Greedy) (\d+)'
device_parsers:
  - regex: '^.{0,4}bot'
    device_replacement: 'Spider'
    brand_replacement: 'Spider'
    model_replacement: 'Desktop'
)");
  auto parser = UserAgentParser::load(path);
  ASSERT_TRUE(parser) << parser.error().detail;
  EXPECT_EQ(parser->parse("xxFoo/2").browser.family, "Foo");
  EXPECT_EQ(parser->parse("xxFoo/2").browser.major, "2");
  EXPECT_EQ(parser->parse("xxxxxxxxFoo/1 Fallback").browser.family, "Fallback");  // starts at 8
  EXPECT_EQ(parser->parse("a long prefix Alt/7").browser.family, "Alt");          // other branch
  EXPECT_EQ(parser->parse("abGreedy 3").os.major, "3");
  EXPECT_EQ(parser->parse("abcdefGreedy 3").os.family, "Other");
  EXPECT_EQ(parser->parse("abcdbot").device.family, "Spider");
  EXPECT_EQ(parser->parse("abcdebot").device.family, "Other");
}

}  // namespace
}  // namespace shortener::enrich
