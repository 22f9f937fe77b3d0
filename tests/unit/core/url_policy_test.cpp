// normalize_url as a table: each hostile or odd input with the exact URL it normalises to or
// the exact detail the user sees.
#include "core/url_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace shortener {
namespace {

struct UrlCase {
  std::string name;  // test name suffix: [A-Za-z0-9_]
  std::string input;
  std::string want;  // the normalised URL, or the error detail when !ok
  bool ok = true;
};

UrlCase good(std::string name, std::string input, std::string want) {
  return {std::move(name), std::move(input), std::move(want), true};
}
UrlCase bad(std::string name, std::string input, std::string detail) {
  return {std::move(name), std::move(input), std::move(detail), false};
}

const std::string kScheme = "url must use http or https";
const std::string kAbsolute = "url must be absolute, starting with http:// or https://";
const std::string kNoHost = "url must have a host";
const std::string kUserinfo = "url must not contain a user name or password";
const std::string kControl = "url must not contain control characters (tab, CR, LF...)";
const std::string kSpace = "url must not contain spaces; encode them as %20";
const std::string kBackslash = "url must not contain backslashes";
const std::string kHost = "url host is not a valid domain name";
const std::string kIdn = "url host is not a valid internationalised domain name";
const std::string kPort = "url port must be a number from 1 to 65535";
const std::string kTooLong = "url must be at most 2048 characters";
const std::string kOwn = "url must not point to this shortener";

std::string of_length(std::size_t n) {
  const std::string head = "https://example.com/";
  return head + std::string(n - head.size(), 'a');
}

std::vector<UrlCase> url_cases() {
  return {
      // Schemes.
      good("Plain", "https://example.com/path", "https://example.com/path"),
      good("UpperSchemeAndHost", "HTTP://EXAMPLE.COM", "http://example.com/"),
      good("MixedCaseKeepsPathCase", "HtTpS://Example.Com/A/B", "https://example.com/A/B"),
      bad("Javascript", "javascript:alert(1)", kScheme),
      bad("JavascriptMixedCase", "JaVaScRiPt:alert(document.cookie)", kScheme),
      bad("Data", "data:text/html,<script>alert(1)</script>", kScheme),
      bad("File", "file:///etc/passwd", kScheme),
      bad("Vbscript", "vbscript:msgbox(1)", kScheme),
      bad("Ftp", "ftp://example.com/file", kScheme),
      bad("Mailto", "mailto:someone@example.com", kScheme),
      bad("SchemeRelative", "//example.com/x", kAbsolute),
      bad("RelativePath", "/relative/path", kAbsolute),
      bad("BareDomain", "example.com", kAbsolute),
      bad("EmptyScheme", "://example.com/", kAbsolute),
      bad("Empty", "", "url must not be empty"),
      bad("OnlyWhitespace", " \t\n ", "url must not be empty"),
      // Userinfo: the phishing shape and its variants.
      bad("UserAndPassword", "http://user:pass@example.com/", kUserinfo),
      bad("UserinfoPhishing", "http://paypal.com@evil.example/", kUserinfo),
      bad("EmptyUserinfo", "http://@example.com/", kUserinfo),
      // Internationalised hosts.
      good("Idn", "http://bücher.de/", "http://xn--bcher-kva.de/"),
      good("IdnMixedCase", "http://BÜcher.DE/", "http://xn--bcher-kva.de/"),
      good("IdnAlreadyPunycode", "http://XN--BCHER-KVA.de/", "http://xn--bcher-kva.de/"),
      good("IdnNonTransitional", "http://faß.de/", "http://xn--fa-hia.de/"),
      good("IdnEmoji", "http://💩.la/", "http://xn--ls8h.la/"),
      good("IdnJapaneseWithPath", "https://例え.テスト/パス",
           "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9"),
      good("IdnPercentEncoded", "http://b%C3%BCcher.de/", "http://xn--bcher-kva.de/"),
      bad("IdnInvalidPunycode", "http://xn--zz.de/", kIdn),
      bad("IdnInvalidUtf8", "http://\xff\xfe.com/", kIdn),
      // Percent-encoding.
      good("EscapesNormalised", "http://example.com/%7euser/%2fa%2Fb?q=%7e%3d#%7E",
           "http://example.com/~user/%2Fa%2Fb?q=~%3D#~"),
      good("EncodedCrLfStaysEncoded", "http://example.com/a%0d%0aSet-Cookie:x=1",
           "http://example.com/a%0D%0ASet-Cookie:x=1"),
      good("EncodedNulStaysEncoded", "http://example.com/?a=%00", "http://example.com/?a=%00"),
      good("StrayPercent", "http://example.com/sale?off=50%", "http://example.com/sale?off=50%25"),
      good("MalformedEscape", "http://example.com/%zz", "http://example.com/%25zz"),
      good("EncodedHostLetters", "http://%65xample.com/", "http://example.com/"),
      bad("EncodedCrLfInHost", "http://exa%0d%0ample.com/", kHost),
      bad("EncodedNulInHost", "http://b%C3%BCcher.de%00.evil.example/", kHost),
      // Raw control characters and whitespace.
      bad("RawCrLf", "http://example.com/\r\nSet-Cookie: x=1", kControl),
      bad("RawLf", "http://example.com/a\nb", kControl),
      bad("Tab", "http://example.com/\tx", kControl),
      bad("Nul", std::string("http://example.com/\0x", 21), kControl),
      bad("Del", "http://example.com/\x7f", kControl),
      good("SurroundingWhitespaceTrimmed", "  \thttps://example.com/x \r\n",
           "https://example.com/x"),
      bad("SpaceInPath", "http://example.com/a b", kSpace),
      bad("SpaceInHost", "http://exa mple.com/", kSpace),
      // Length.
      good("Exactly2048", of_length(2048), of_length(2048)),
      bad("Length2049", of_length(2049), kTooLong),
      bad("TooLongOnceEscaped", "https://example.com/" + std::string(1000, '\xe9'),
          "url must be at most 2048 characters once normalised"),
      // IP hosts.
      good("Ipv6Loopback", "http://[::1]:8080/", "http://[::1]:8080/"),
      good("Ipv6Canonical", "http://[2001:DB8:0:0:0:0:0:1]/x", "http://[2001:db8::1]/x"),
      good("Ipv6MappedIpv4", "http://[::FFFF:192.0.2.1]/", "http://[::ffff:192.0.2.1]/"),
      bad("Ipv6Unclosed", "http://[::1/", kHost),
      bad("Ipv6JunkAfterBracket", "http://[::1]x/", kHost),
      bad("Ipv6Invalid", "http://[::g]/", kHost),
      bad("PortThenJunk", "http://example.com:1:2/", kPort),
      bad("Ipv6Zone", "http://[fe80::1%25eth0]/", kHost),
      bad("IpvFuture", "http://[v1.x]/", kHost),
      good("Ipv4", "http://192.168.0.1/admin", "http://192.168.0.1/admin"),
      good("Ipv4Https", "https://127.0.0.1:8443", "https://127.0.0.1:8443/"),
      // Boost.URL 1.81 splits these as host 1.2.3.4 + path ".nip.io/": found by url_fuzz.
      good("Ipv4PrefixedName", "http://1.2.3.4.nip.io/x", "http://1.2.3.4.nip.io/x"),
      good("EncodedDotInHost", "http://1.6%2e64.0.1/", "http://1.6.64.0.1/"),
      // Ports.
      bad("Port0", "http://example.com:0/", kPort),
      good("Port80Dropped", "http://example.com:80/", "http://example.com/"),
      good("Port443Dropped", "https://example.com:443/", "https://example.com/"),
      good("Port443KeptOnHttp", "http://example.com:443/", "http://example.com:443/"),
      good("Port80KeptOnHttps", "https://example.com:80/", "https://example.com:80/"),
      good("PortLeadingZeros", "http://example.com:0080/", "http://example.com/"),
      good("Port65535", "http://example.com:65535/", "http://example.com:65535/"),
      good("EmptyPortDropped", "http://example.com:/", "http://example.com/"),
      bad("Port65536", "http://example.com:65536/", kPort),
      bad("PortHuge", "http://example.com:99999999999999999999/", kPort),
      bad("PortNotNumeric", "http://example.com:8o/", kPort),
      bad("Ipv6PortNotNumeric", "http://[::1]:x/", kPort),
      // Missing or malformed hosts.
      bad("NoHost", "http://", kNoHost),
      bad("NoHostWithPath", "http:///path", kNoHost),
      bad("NoSlashes", "http:example.com", kNoHost),
      bad("OneSlash", "http:/example.com", kNoHost),
      bad("PortWithoutHost", "http://:80/", kNoHost),
      bad("EmptyLabel", "http://a..example.com/", kHost),
      bad("OnlyDot", "http://./", kHost),
      bad("LabelTooLong", "http://" + std::string(64, 'a') + ".com/", kHost),
      bad("SubDelimInHost", "http://exa$mple.com/", kHost),
      bad("Backslashes", "http:\\\\evil.com", kBackslash),
      bad("BackslashBeforeAt", "http://example.com\\@evil.com/", kBackslash),
      good("UnderscoreInHost", "http://my_host.example.com/", "http://my_host.example.com/"),
      good("TrailingDotStripped", "http://example.com./x", "http://example.com/x"),
      // Own hosts and blocklist (policy: own sho.rt, blocked evil.example).
      bad("OwnHost", "https://sho.rt/abc", kOwn),
      bad("OwnHostWithPort", "https://SHO.RT:8443/abc", kOwn),
      bad("OwnHostTrailingDot", "http://sho.rt./abc", kOwn),
      good("OwnHostSubdomainAllowed", "https://www.sho.rt/", "https://www.sho.rt/"),
      bad("Blocked", "http://evil.example/", "url host evil.example is blocked"),
      bad("BlockedSubdomain", "http://a.b.EVIL.example/x", "url host a.b.evil.example is blocked"),
      bad("BlockedTrailingDot", "http://evil.example./", "url host evil.example is blocked"),
      good("BlockedSuffixIsNotParent", "http://notevil.example/", "http://notevil.example/"),
      // Paths, queries, fragments.
      good("UnicodePath", "http://example.com/ünï", "http://example.com/%C3%BCn%C3%AF"),
      good("LineSeparatorEscaped", "http://example.com/\xe2\x80\xa8",
           "http://example.com/%E2%80%A8"),
      good("Fragment", "http://example.com/#frag", "http://example.com/#frag"),
      good("SecondHashEscaped", "http://example.com/?a=1&b=2#x#y",
           "http://example.com/?a=1&b=2#x%23y"),
      good("QueryWithoutPath", "http://example.com?q", "http://example.com/?q"),
      good("EmptyQueryAndFragmentKept", "http://example.com/?#", "http://example.com/?#"),
      good("DotSegments", "http://example.com/a/./b/../c", "http://example.com/a/c"),
      good("DotSegmentsAboveRoot", "http://example.com/../../etc", "http://example.com/etc"),
      good("EncodedDotSegments", "http://example.com/a/%2e%2E/b", "http://example.com/b"),
      good("TrailingDotDot", "http://example.com/a/b/..", "http://example.com/a/"),
      good("DoubleSlashKept", "http://example.com//x", "http://example.com//x"),
      good("QueryKeepsDots", "http://example.com/?p=../x", "http://example.com/?p=../x"),
      good("BrowserToleratedChars", "http://example.com/?a[]=1&b={x}|y^`\"<>",
           "http://example.com/?a%5B%5D=1&b=%7Bx%7D%7Cy%5E%60%22%3C%3E"),
      good("ReservedCharsKept", "http://example.com/a:b@c!$&'()*+,;=?x=/?",
           "http://example.com/a:b@c!$&'()*+,;=?x=/?"),
  };
}

UrlPolicy test_policy() {
  UrlPolicy policy;
  policy.own_hosts = {"sho.rt"};
  policy.blocked_domains = {"evil.example"};
  return policy;
}

class NormalizeUrlTest : public testing::TestWithParam<UrlCase> {};

TEST_P(NormalizeUrlTest, MatchesTable) {
  const UrlCase& c = GetParam();
  const auto result = normalize_url(c.input, test_policy());
  if (c.ok) {
    ASSERT_TRUE(result.has_value()) << result.error().detail;
    EXPECT_EQ(*result, c.want);
    // Normalising is a fixed point: a stored URL re-validated on PATCH must not change.
    const auto again = normalize_url(*result, test_policy());
    ASSERT_TRUE(again.has_value()) << again.error().detail;
    EXPECT_EQ(*again, *result);
  } else {
    ASSERT_FALSE(result.has_value()) << "accepted as " << *result;
    EXPECT_EQ(result.error().code, Errc::invalid_input);
    EXPECT_EQ(result.error().detail, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, NormalizeUrlTest, testing::ValuesIn(url_cases()),
                         [](const testing::TestParamInfo<UrlCase>& info) {
                           return info.param.name;
                         });

TEST(NormalizeUrlTest, TableIsLargeEnough) {
  EXPECT_GE(url_cases().size(), 40u);
}

TEST(NormalizeUrlTest, MaxLengthIsConfigurable) {
  UrlPolicy policy;
  policy.max_length = 30;
  EXPECT_TRUE(normalize_url("http://example.com/123456789ab", policy).has_value());
  const auto result = normalize_url("http://example.com/123456789abc", policy);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().detail, "url must be at most 30 characters");
}

TEST(NormalizeUrlTest, OwnHostsMayBeSpelledWithTrailingDotOrCase) {
  UrlPolicy policy;
  policy.own_hosts = {"Sho.RT.", "[::1]"};
  EXPECT_FALSE(normalize_url("http://sho.rt/x", policy).has_value());
  EXPECT_FALSE(normalize_url("http://[0:0::1]:8080/x", policy).has_value());
  EXPECT_TRUE(normalize_url("http://[::2]/x", policy).has_value());
}

TEST(HostOfTest, ReturnsNormalisedHost) {
  EXPECT_EQ(host_of("http://localhost:8080").value(), "localhost");
  EXPECT_EQ(host_of("https://Short.Example./").value(), "short.example");
  EXPECT_EQ(host_of("https://bücher.de").value(), "xn--bcher-kva.de");
  EXPECT_EQ(host_of("http://[::1]:8080/").value(), "[::1]");
  EXPECT_EQ(host_of("http://127.0.0.1:8080").value(), "127.0.0.1");
}

TEST(HostOfTest, RejectsWhatIsNotAnHttpUrl) {
  EXPECT_FALSE(host_of("localhost:8080").has_value());
  EXPECT_FALSE(host_of("ftp://example.com").has_value());
  EXPECT_FALSE(host_of("http://").has_value());
  EXPECT_FALSE(host_of("").has_value());
}

class BlocklistTest : public testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_ = std::filesystem::temp_directory_path() /
                                ("blocklist_test_" + std::to_string(::getpid()) + ".txt");
};

TEST_F(BlocklistTest, ParsesCommentsBlankLinesAndNormalises) {
  const auto path = write(
      "# phishing\n"
      "evil.example\n"
      "\n"
      "  Bad.Example.  # trailing comment\n"
      "bücher.de\r\n");
  const auto domains = load_domain_blocklist(path);
  ASSERT_TRUE(domains.has_value()) << domains.error().detail;
  EXPECT_EQ(*domains,
            (std::unordered_set<std::string>{"evil.example", "bad.example", "xn--bcher-kva.de"}));

  UrlPolicy policy;
  policy.blocked_domains = *domains;
  EXPECT_FALSE(normalize_url("https://www.bad.example/", policy).has_value());
  EXPECT_FALSE(normalize_url("https://BÜCHER.de/", policy).has_value());
  EXPECT_TRUE(normalize_url("https://good.example/", policy).has_value());
}

TEST_F(BlocklistTest, ReportsTheBadLine) {
  const auto path = write("ok.example\nnot a domain\n");
  const auto domains = load_domain_blocklist(path);
  ASSERT_FALSE(domains.has_value());
  EXPECT_EQ(domains.error().detail, path + ":2: 'not a domain' is not a domain name");
}

TEST(BlocklistFileTest, MissingFileIsAnError) {
  const auto domains = load_domain_blocklist("/nonexistent/blocklist.txt");
  ASSERT_FALSE(domains.has_value());
  EXPECT_EQ(domains.error().code, Errc::invalid_input);
}

}  // namespace
}  // namespace shortener
