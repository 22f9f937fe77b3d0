// Response serialisation: the X-Request-Id header is sent exactly when the server set an id.
#include "http/wire.h"

#include <gtest/gtest.h>

#include <string>

namespace shortener::http {
namespace {

TEST(WireTest, EchoesTheRequestId) {
  Response response;
  response.set(302, kTextPlain, "");
  response.location = "https://example.com/";
  response.request_id = "abc-123";
  std::string out;
  serialize_response(response, false, true, false, out);
  EXPECT_NE(out.find("\r\nX-Request-Id: abc-123\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nLocation: https://example.com/\r\n"), std::string::npos) << out;
}

TEST(WireTest, NoRequestIdNoHeader) {
  Response response;
  response.request_id = "abc-123";
  response.reset();
  response.set(404, kTextPlain, "not found\n");
  std::string out;
  serialize_response(response, false, true, false, out);
  EXPECT_EQ(out.find("X-Request-Id"), std::string::npos) << out;
}

}  // namespace
}  // namespace shortener::http
