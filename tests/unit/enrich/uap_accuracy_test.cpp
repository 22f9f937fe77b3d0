// Runs uap-core's own test cases (the files its reference test suite reads) through our
// parser and reports accuracy per field. The target is >= 99 % on browser, OS and device
// family. Debian ships uap-core 0.16's tests; npm's uap-core (0.18, what the service loads
// by default) ships none, so the newer regexes are also scored against the 0.16 cases.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "test_data.h"
#include "worker/enrich/user_agent.h"
#include "worker/enrich/yaml_tree.h"

namespace shortener::enrich {
namespace {

constexpr double kTargetFamilyAccuracy = 0.99;

using Getter = std::function<const std::string&(const UserAgent&)>;

struct Field {
  const char* key;  // as in the test file
  Getter get;
};

struct Suite {
  const char* name;
  std::vector<const char*> files;  // relative to the uap-core directory
  std::vector<Field> fields;       // the first one is the family
};

std::vector<Suite> suites() {
  const auto b = [](auto member) {
    return Getter([=](const UserAgent& u) -> const std::string& { return u.browser.*member; });
  };
  const auto o = [](auto member) {
    return Getter([=](const UserAgent& u) -> const std::string& { return u.os.*member; });
  };
  const auto d = [](auto member) {
    return Getter([=](const UserAgent& u) -> const std::string& { return u.device.*member; });
  };
  using B = UserAgent::Browser;
  using O = UserAgent::Os;
  using D = UserAgent::Device;
  return {
      {"browser",
       {"tests/test_ua.yaml", "test_resources/firefox_user_agent_strings.yaml",
        "test_resources/pgts_browser_list.yaml",
        "test_resources/opera_mini_user_agent_strings.yaml",
        "test_resources/podcasting_user_agent_strings.yaml"},
       {{"family", b(&B::family)},
        {"major", b(&B::major)},
        {"minor", b(&B::minor)},
        {"patch", b(&B::patch)}}},
      {"os",
       {"tests/test_os.yaml", "test_resources/additional_os_tests.yaml"},
       {{"family", o(&O::family)},
        {"major", o(&O::major)},
        {"minor", o(&O::minor)},
        {"patch", o(&O::patch)},
        {"patch_minor", o(&O::patch_minor)}}},
      {"device",
       {"tests/test_device.yaml"},
       {{"family", d(&D::family)}, {"brand", d(&D::brand)}, {"model", d(&D::model)}}},
  };
}

struct Score {
  std::size_t cases = 0;
  std::size_t family_ok = 0;
  std::size_t all_ok = 0;  // every field of the case
};

Score run_suite(const UserAgentParser& parser, const Suite& suite, const std::string& dir) {
  Score score;
  for (const char* file : suite.files) {
    auto doc = load_yaml_file(dir + "/" + file);
    if (!doc) {
      ADD_FAILURE() << doc.error().detail;
      continue;
    }
    const YamlNode* cases = doc->find("test_cases");
    if (cases == nullptr) {
      ADD_FAILURE() << file << ": no test_cases";
      continue;
    }
    for (const YamlNode& c : cases->items) {
      const UserAgent parsed = parser.parse_uncached(c.text("user_agent_string").value_or(""));
      bool all = true;
      for (std::size_t f = 0; f < suite.fields.size(); ++f) {
        // Absent expectations are null in the files and empty strings here.
        const bool ok = suite.fields[f].get(parsed) == c.text(suite.fields[f].key).value_or("");
        if (f == 0 && ok) ++score.family_ok;
        all = all && ok;
      }
      score.all_ok += all ? 1 : 0;
      ++score.cases;
    }
  }
  return score;
}

void expect_accuracy(const std::string& regexes, const std::string& label) {
  const std::string tests = test::system_uap_dir();
  ASSERT_TRUE(test::data_file(regexes));
  ASSERT_TRUE(test::data_file(tests + "/tests/test_ua.yaml"));
  auto parser = UserAgentParser::load(regexes, {.cache_entries = 0});
  ASSERT_TRUE(parser) << parser.error().detail;
  for (const Suite& suite : suites()) {
    const Score s = run_suite(*parser, suite, tests);
    ASSERT_GT(s.cases, 0u) << suite.name;
    const double family = static_cast<double>(s.family_ok) / static_cast<double>(s.cases);
    const double all = static_cast<double>(s.all_ok) / static_cast<double>(s.cases);
    std::printf("[ accuracy ] %s %-7s family %6.2f %% (%zu/%zu), all fields %6.2f %%\n",
                label.c_str(), suite.name, 100 * family, s.family_ok, s.cases, 100 * all);
    EXPECT_GE(family, kTargetFamilyAccuracy) << suite.name;
  }
}

TEST(UapAccuracyTest, MatchingVersionsOfRegexesAndCases) {
  expect_accuracy(test::system_uap_dir() + "/regexes.yaml", "debian-regexes");
}

TEST(UapAccuracyTest, ServiceRegexesAgainstSystemCases) {
  expect_accuracy(test::uap_regexes(), "service-regexes");
}

}  // namespace
}  // namespace shortener::enrich
