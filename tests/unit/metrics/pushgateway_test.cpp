#include "metrics/pushgateway.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shortener::metrics {
namespace {

TEST(PushUrl, HostPortAndPath) {
  auto t = parse_push_url("http://gateway:9092/prefix/");
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_EQ(t->host, "gateway");
  EXPECT_EQ(t->port, 9092);
  EXPECT_EQ(t->path_prefix, "/prefix");
}

TEST(PushUrl, DefaultPortAndBracketedIpv6) {
  auto plain = parse_push_url("http://127.0.0.1");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 9091);
  EXPECT_EQ(plain->path_prefix, "");
  auto v6 = parse_push_url("http://[::1]:9093");
  ASSERT_TRUE(v6) << v6.error().detail;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9093);
}

TEST(PushUrl, BadInputIsInvalidInput) {
  for (const char* bad : {"", "https://gw:9091", "gw:9091", "http://", "http://gw:", "http://gw:0",
                          "http://gw:70000", "http://gw:12ab", "http://[::1", "http://[::1]x"}) {
    auto t = parse_push_url(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().code, Errc::invalid_input) << bad;
  }
}

TEST(Push, ClosedPortIsUnavailable) {
  // Bind a port and close it again: nothing listens there now.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  PushTarget target{.host = "127.0.0.1", .port = ntohs(addr.sin_port)};
  auto pushed = push(target, "job", "instance", "x 1\n", std::chrono::milliseconds(500));
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace shortener::metrics
