#include <gtest/gtest.h>

#include <string>

#include "core/ip.h"

namespace shortener {
namespace {

IpAddress ip(std::string_view text) {
  return IpAddress::parse(text).value();
}

TEST(IpAddress, ParsesAndPrints) {
  EXPECT_EQ(ip("1.2.3.4").to_string(), "1.2.3.4");
  EXPECT_EQ(ip("2001:db8::1").to_string(), "2001:db8::1");
  EXPECT_EQ(ip("::ffff:8.8.8.8").to_string(), "8.8.8.8");  // mapped addresses fold to IPv4
  EXPECT_EQ(ip(" 1.2.3.4 ").to_string(), "1.2.3.4");
  // IPv4 is printed by hand: every octet value, in every position, as inet_ntop would.
  for (int octet = 0; octet < 256; ++octet) {
    std::string n = std::to_string(octet);
    for (const std::string& text :
         {n + ".0.0.0", "0." + n + ".0.0", "0.0." + n + ".0", "255.255.255." + n})
      EXPECT_EQ(ip(text).to_string(), text);
  }
  for (auto bad : {"", "1.2.3", "1.2.3.256", "abc", "1.2.3.4/8", "::g",
                   "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb"})
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
}

TEST(Cidr, Contains) {
  auto net = Cidr::parse("10.0.0.0/8").value();
  EXPECT_TRUE(net.contains(ip("10.255.1.2")));
  EXPECT_FALSE(net.contains(ip("11.0.0.1")));
  EXPECT_FALSE(net.contains(ip("::1")));
  auto odd = Cidr::parse("192.168.1.128/25").value();
  EXPECT_TRUE(odd.contains(ip("192.168.1.200")));
  EXPECT_FALSE(odd.contains(ip("192.168.1.100")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0").value().contains(ip("8.8.8.8")));
  EXPECT_TRUE(Cidr::parse("::1").value().contains(ip("::1")));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/").has_value());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/x").has_value());
}

// Table: peer, X-Forwarded-For, trusted ranges -> client.
TEST(ClientAddress, RightmostUntrustedHop) {
  auto trusted = parse_cidr_list("127.0.0.1/32, 10.0.0.0/8").value();
  struct Case {
    const char* peer;
    const char* xff;
    const char* expected;
  } cases[] = {
      {"203.0.113.9", "1.1.1.1", "203.0.113.9"},        // untrusted peer: XFF ignored
      {"127.0.0.1", "", "127.0.0.1"},                   // trusted peer, no header
      {"127.0.0.1", "8.8.8.8", "8.8.8.8"},              // one proxy
      {"127.0.0.1", "6.6.6.6, 8.8.8.8", "8.8.8.8"},     // client-supplied left part ignored
      {"127.0.0.1", "8.8.8.8, 10.1.2.3", "8.8.8.8"},    // chain of trusted proxies
      {"127.0.0.1", "10.1.1.1, 10.2.2.2", "10.1.1.1"},  // all trusted: leftmost
      {"127.0.0.1", "8.8.8.8, garbage", "127.0.0.1"},   // invalid hop: stop at last good
      {"127.0.0.1", " 2001:db8::5 ", "2001:db8::5"},    // IPv6 with spaces
      {"127.0.0.1", "::ffff:1.2.3.4", "1.2.3.4"},       // mapped
      {"127.0.0.1", "1.2.3.4:5678", "127.0.0.1"},       // ports are not addresses
  };
  for (const auto& c : cases)
    EXPECT_EQ(client_address(ip(c.peer), c.xff, trusted).to_string(), c.expected)
        << c.peer << " / " << c.xff;
}

}  // namespace
}  // namespace shortener
