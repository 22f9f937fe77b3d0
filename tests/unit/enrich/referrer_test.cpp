#include "worker/enrich/referrer.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace shortener::enrich {
namespace {

struct HostCase {
  std::string referer;
  std::string host;
};

TEST(ReferrerHostTest, NormalisesTheHost) {
  const std::vector<HostCase> cases = {
      {"", "direct"},
      {"   ", "direct"},
      {"https://www.google.com/", "www.google.com"},
      {"https://google.com/search?q=x", "google.com"},  // www. is not folded
      {"HTTPS://WWW.Example.COM/Path", "www.example.com"},
      {"https://example.com:8443/x", "example.com"},
      {"http://user:secret@example.com:80/", "example.com"},
      {"https://example.com.", "example.com"},
      {"https://news.ycombinator.com?x=1#frag", "news.ycombinator.com"},
      {"https://t.co", "t.co"},
      {"example.com/some/path", "example.com"},    // no scheme
      {"example.com:8080/x", "example.com"},       // no scheme, with a port
      {"//cdn.example.org/a", "cdn.example.org"},  // scheme-relative
      {"android-app://com.slack/", "com.slack"},
      {"https://xn--bcher-kva.example/", "xn--bcher-kva.example"},  // IDN as browsers send it
      {"https://B\xC3\xBC"
       "cher.example/",
       "b\xC3\xBC"
       "cher.example"},  // raw UTF-8 kept
      {"http://192.0.2.10:8080/", "192.0.2.10"},
      {"http://[2001:DB8::1]:8080/x", "[2001:db8::1]"},
      {"  https://example.com/  ", "example.com"},
      {"https://example.com\\evil", "example.com"},
      {"about:blank", "unknown"},
      {"data:text/html,hi", "unknown"},
      {"https://", "unknown"},
      {"https://exa mple.com/", "unknown"},
      {"https://example.com:port/", "unknown"},
      {"https://example.com:123456/", "unknown"},
      {"https://a..b/", "unknown"},
      {"https://[::1/", "unknown"},
      {"https://exa\x01mple.com/", "unknown"},
      {"https://example.com/\r\nSet-Cookie: x", "unknown"},
      {"\xff\xfe\xfd", "unknown"},               // binary garbage
      {"https://\xc0\xaf.example/", "unknown"},  // overlong UTF-8
      {"https://" + std::string(300, 'a') + ".com/", "unknown"},
  };
  for (const HostCase& c : cases) {
    EXPECT_EQ(referrer_host(c.referer), c.host) << "referer: " << c.referer;
  }
}

TEST(ReferrerHostTest, HugeRefererIsBounded) {
  EXPECT_EQ(referrer_host("https://example.com/" + std::string(8192, 'x')), "example.com");
  EXPECT_EQ(referrer_host(std::string(8192, '\xff')), "unknown");
}

struct UtmCase {
  std::string query;
  std::optional<std::string> source;
};

TEST(UtmSourceTest, ExtractsTheFirstNonEmptyValue) {
  const std::vector<UtmCase> cases = {
      {"", std::nullopt},
      {"a=1&b=2", std::nullopt},
      {"utm_source=newsletter", "newsletter"},
      {"?utm_source=newsletter&utm_medium=email", "newsletter"},
      {"https://sho.rt/abc?x=1&utm_source=Twitter#top", "Twitter"},
      {"utm_source=&utm_source=second", "second"},
      {"utm_source=spring+sale%21", "spring sale!"},
      {"utm%5Fsource=encoded-key", "encoded-key"},
      {"utm_source=%E2%9C%93ok", "\xE2\x9C\x93ok"},
      {"utm_source=%zz", "%zz"},
      {"utm_source", std::nullopt},
      {"xutm_source=no", std::nullopt},
      {"utm_source=%0d%0aX-Injected:1", std::nullopt},
      {"utm_source=%ff%fe", std::nullopt},
      {"utm_source=" + std::string(500, 'a'), std::string(100, 'a')},
  };
  for (const UtmCase& c : cases) {
    EXPECT_EQ(utm_source_of(c.query), c.source) << "query: " << c.query;
  }
}

TEST(UtmSourceTest, CutsOnACharacterBoundary) {
  std::string query = "utm_source=" + std::string(99, 'a') + "%C3%A9";  // 99 + 2 bytes
  EXPECT_EQ(utm_source_of(query), std::string(99, 'a'));
}

}  // namespace
}  // namespace shortener::enrich
