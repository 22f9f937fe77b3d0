// The access log: the fields of a line in both formats, hostile paths and user agents, and
// what must never be written (query strings, Authorization).
#include "log/access_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>
#include <sstream>
#include <string>

#include "log/json_formatter.h"

namespace shortener::logging {
namespace {

IpAddress ip(std::string_view text) {
  return *IpAddress::parse(text);
}

AccessEntry sample() {
  return AccessEntry{.request_id = "abc-123",
                     .method = "GET",
                     .path = "/x9K2_ab",
                     .status = 302,
                     .duration_us = 57,
                     .bytes = 0,
                     .client = ip("203.0.113.7"),
                     .peer = ip("127.0.0.1"),
                     .route = "redirect",
                     .user_agent = "curl/8.0"};
}

TEST(AccessLogTest, JsonFields) {
  std::string out;
  render_access_entry(Format::json, sample(), out);
  EXPECT_EQ(out, R"("msg":"request","request_id":"abc-123","method":"GET","path":"/x9K2_ab",)"
                 R"("status":302,"duration_us":57,"bytes":0,"client":"203.0.113.7",)"
                 R"("peer":"127.0.0.1","route":"redirect","user_agent":"curl/8.0")");
}

TEST(AccessLogTest, TextFields) {
  std::string out;
  render_access_entry(Format::text, sample(), out);
  EXPECT_EQ(out,
            R"(request request_id=abc-123 method=GET path="/x9K2_ab" status=302 duration_us=57 )"
            R"(bytes=0 client=203.0.113.7 peer=127.0.0.1 route=redirect user_agent="curl/8.0")");
}

TEST(AccessLogTest, HostileValuesStayInsideTheirField) {
  auto entry = sample();
  std::string path = "/a\"b\n{\"x\":1}";
  std::string agent = "Mozilla\" status=200 \r\n\x01\xff";
  entry.path = path;
  entry.user_agent = agent;
  for (auto format : {Format::json, Format::text}) {
    std::string out;
    render_access_entry(format, entry, out);
    EXPECT_EQ(out.find_first_of("\r\n"), std::string::npos) << out;
    if (format == Format::json) {
      auto object = boost::json::parse("{" + out + "}").as_object();
      EXPECT_EQ(object.at("path").as_string(), path);
      EXPECT_EQ(object.at("user_agent").as_string().size(), agent.size() + 2);  // \xff -> U+FFFD
      EXPECT_EQ(object.size(), 11u);
    } else {
      EXPECT_NE(out.find(R"(user_agent="Mozilla\" status=200 \r\n\u0001\ufffd")"),
                std::string::npos)
          << out;
    }
  }
}

TEST(AccessLogTest, LongValuesAreCutAtCharacterBoundaries) {
  EXPECT_EQ(truncate_utf8("abc", 5), "abc");
  EXPECT_EQ(truncate_utf8("abcdef", 3), "abc");
  EXPECT_EQ(truncate_utf8("a\xc3\xa9z", 2), "a");  // does not split é
  EXPECT_EQ(truncate_utf8("a\xc3\xa9z", 3), "a\xc3\xa9");
  auto entry = sample();
  std::string agent(5000, 'u');
  entry.user_agent = agent;
  std::string out;
  render_access_entry(Format::json, entry, out);
  auto object = boost::json::parse("{" + out + "}").as_object();
  EXPECT_EQ(object.at("user_agent").as_string().size(), kMaxLoggedUserAgent);
}

class RecordTest : public ::testing::Test {
 protected:
  std::string record(Format format, http::Request& request, const http::Response& response) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    if (format == Format::json)
      sink->set_formatter(std::make_unique<JsonFormatter>(JsonFormatter::Payload::fields));
    auto logger = std::make_shared<spdlog::logger>("access", sink);
    auto trusted = parse_cidr_list("127.0.0.1/32");
    SpdlogAccessLog log(logger, format, *trusted);
    request.split_target();
    log.record(request, response, std::chrono::microseconds(1234), 17);
    return stream_.str();
  }
  std::ostringstream stream_;
};

http::Request hostile_request() {
  http::Request request;
  request.method = http::Method::post;
  request.target = "/api/v1/links?token=query-secret&key=sk_in_query";
  request.authorization = "Bearer sk_live_supersecret";
  request.user_agent = "test-agent";
  request.x_forwarded_for = "198.51.100.9";
  request.peer = ip("127.0.0.1");
  request.id.assign("abc-123");
  return request;
}

TEST_F(RecordTest, JsonLineHasTheFieldsAndNoSecrets) {
  auto request = hostile_request();
  http::Response response;
  response.status = 201;
  response.route = "api_links";
  std::string line = record(Format::json, request, response);
  ASSERT_EQ(line.find('\n'), line.size() - 1) << line;
  auto object = boost::json::parse(line).as_object();
  EXPECT_EQ(object.at("logger").as_string(), "access");
  EXPECT_EQ(object.at("level").as_string(), "info");
  EXPECT_EQ(object.at("msg").as_string(), "request");
  EXPECT_EQ(object.at("request_id").as_string(), "abc-123");
  EXPECT_EQ(object.at("method").as_string(), "POST");
  EXPECT_EQ(object.at("path").as_string(), "/api/v1/links");
  EXPECT_EQ(object.at("status").as_int64(), 201);
  EXPECT_EQ(object.at("duration_us").as_int64(), 1234);
  EXPECT_EQ(object.at("bytes").as_int64(), 17);
  EXPECT_EQ(object.at("client").as_string(), "198.51.100.9");  // the peer is a trusted proxy
  EXPECT_EQ(object.at("peer").as_string(), "127.0.0.1");
  EXPECT_EQ(object.at("route").as_string(), "api_links");
  EXPECT_EQ(object.at("user_agent").as_string(), "test-agent");
  for (const char* secret : {"secret", "sk_", "token", "Bearer"})
    EXPECT_EQ(line.find(secret), std::string::npos) << secret << " in " << line;
}

TEST_F(RecordTest, TextLineHasNoSecrets) {
  auto request = hostile_request();
  http::Response response;
  response.status = 401;
  std::string line = record(Format::text, request, response);
  EXPECT_NE(line.find("[access] [info] request request_id=abc-123 method=POST "
                      "path=\"/api/v1/links\" status=401 duration_us=1234 bytes=17 "
                      "client=198.51.100.9 peer=127.0.0.1 route=other"),
            std::string::npos)
      << line;
  for (const char* secret : {"secret", "sk_", "token", "Bearer"})
    EXPECT_EQ(line.find(secret), std::string::npos) << secret << " in " << line;
}

TEST_F(RecordTest, UnparsedTargetLosesItsQueryToo) {
  auto request = hostile_request();  // a bad request: split_target never ran
  http::Response response;
  response.status = 400;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
  SpdlogAccessLog log(std::make_shared<spdlog::logger>("access", sink), Format::text, {});
  log.record(request, response, {}, 0);
  EXPECT_NE(stream_.str().find("path=\"/api/v1/links\""), std::string::npos) << stream_.str();
  EXPECT_EQ(stream_.str().find("secret"), std::string::npos) << stream_.str();
}

}  // namespace
}  // namespace shortener::logging
