#include "worker/enrich/ip_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shortener::enrich {
namespace {

struct IpCase {
  std::string text;
  bool parses;
  bool v4 = false;
  bool is_public = false;
};

TEST(IpAddressTest, ParsesNormalisesAndClassifies) {
  const std::vector<IpCase> cases = {
      {"8.8.8.8", true, true, true},
      {" 8.8.8.8 ", true, true, true},
      {"::ffff:8.8.8.8", true, true, true},  // IPv4-mapped folds to IPv4
      {"::FFFF:808:808", true, true, true},
      {"2001:4860:4860::8888", true, false, true},
      {"[2001:4860:4860::8888]", true, false, true},
      {"10.0.0.1", true, true, false},
      {"172.16.5.4", true, true, false},
      {"172.32.0.1", true, true, true},
      {"192.168.1.1", true, true, false},
      {"127.0.0.1", true, true, false},
      {"::ffff:127.0.0.1", true, true, false},
      {"169.254.10.10", true, true, false},
      {"100.64.0.1", true, true, false},
      {"0.0.0.0", true, true, false},
      {"192.0.2.1", true, true, false},
      {"224.0.0.1", true, true, false},
      {"255.255.255.255", true, true, false},
      {"::1", true, false, false},
      {"::", true, false, false},
      {"fe80::1", true, false, false},
      {"fc00::1", true, false, false},
      {"fd12:3456::1", true, false, false},
      {"ff02::1", true, false, false},
      {"2001:db8::1", true, false, false},
      {"not-an-ip", false},
      {"", false},
      {"1.2.3", false},
      {"1.2.3.4.5", false},
      {"01.2.3.4", false},
      {"256.1.1.1", false},
      {"8.8.8.8:53", false},
      {"fe80::1%eth0", false},
      {"8.8.8.8\n", false},
      {std::string(100, '1'), false},
  };
  for (const IpCase& c : cases) {
    SCOPED_TRACE(c.text);
    const auto ip = IpAddress::parse(c.text);
    ASSERT_EQ(ip.has_value(), c.parses);
    if (!ip) continue;
    EXPECT_EQ(ip->v4, c.v4);
    EXPECT_EQ(is_public(*ip), c.is_public);
  }
}

TEST(IpAddressTest, MappedAddressKeepsItsBytes) {
  const auto ip = IpAddress::parse("::ffff:203.0.113.77");
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->v4);
  EXPECT_EQ(ip->bytes[0], 203);
  EXPECT_EQ(ip->bytes[3], 77);
  EXPECT_EQ(ip->bytes[4], 0);
}

}  // namespace
}  // namespace shortener::enrich
