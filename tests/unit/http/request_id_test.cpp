// Request ids: which incoming X-Request-Id values are taken as they are, and the shape and
// uniqueness of the ones we generate.
#include "http/request_id.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http/request.h"

namespace shortener::http {
namespace {

struct Case {
  std::string text;
  bool acceptable;
};

TEST(RequestIdTest, AcceptsOnlyShortPlainTokens) {
  const std::vector<Case> cases = {
      {"abc-123", true},
      {"a", true},
      {"A.Z_0-9", true},
      {"3f2c1a9e-5b7d-4e2a-9c1f-0a8b7c6d5e4f", true},  // a UUID
      {std::string(64, 'x'), true},
      {std::string(65, 'x'), false},
      {"", false},
      {"a b", false},
      {"a\r\nX-Injected: 1", false},
      {"a\nb", false},
      {"a\tb", false},
      {std::string("a\0b", 3), false},
      {"a\"b", false},
      {"a\\b", false},
      {"a/b", false},
      {"a:b", false},
      {"a=b", false},
      {"caf\xc3\xa9", false},
      {"{\"msg\":\"x\"}", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RequestId::acceptable(c.text), c.acceptable) << c.text;
    RequestId id;
    EXPECT_EQ(id.assign(c.text), c.acceptable) << c.text;
    EXPECT_EQ(id.view(), c.acceptable ? c.text : std::string()) << c.text;
  }
}

TEST(RequestIdTest, RefusedValueLeavesTheIdAlone) {
  RequestId id;
  ASSERT_TRUE(id.assign("first"));
  EXPECT_FALSE(id.assign("not ok"));
  EXPECT_EQ(id.view(), "first");
  id.clear();
  EXPECT_TRUE(id.empty());
  EXPECT_EQ(id.view(), "");
}

TEST(RequestIdTest, GeneratedIdsArePrefixDashBase36Counter) {
  const std::regex shape("[0-9A-Za-z]{8}-[0-9a-z]{1,13}");
  RequestId a, b;
  a.generate();
  b.generate();
  EXPECT_TRUE(std::regex_match(std::string(a.view()), shape)) << a.view();
  EXPECT_TRUE(std::regex_match(std::string(b.view()), shape)) << b.view();
  EXPECT_TRUE(RequestId::acceptable(a.view()));
  EXPECT_NE(a.view(), b.view());
  EXPECT_EQ(a.view().substr(0, 9), b.view().substr(0, 9));  // one prefix per process
}

TEST(RequestIdTest, GenerateReplacesALongerId) {
  RequestId id;
  ASSERT_TRUE(id.assign(std::string(64, 'z')));
  id.generate();
  EXPECT_LT(id.view().size(), 24u);
  EXPECT_EQ(id.view().find('z', 9), std::string_view::npos) << id.view();
}

TEST(RequestIdTest, UniqueAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 20'000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&made, t] {
      RequestId id;
      for (int i = 0; i < kPerThread; ++i) {
        id.generate();
        made[t].emplace_back(id.view());
      }
    });
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& ids : made) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(RequestIdTest, RequestResetClearsTheId) {
  Request request;
  request.id.generate();
  request.reset();
  EXPECT_TRUE(request.id.empty());
}

}  // namespace
}  // namespace shortener::http
