// PostgreSQL URLs in error messages: libpq quotes a malformed URL or password in its errors,
// which end up on stderr; the password never does. No server needed.
#include <gtest/gtest.h>

#include <string>

#include "storage/postgres/connection.h"

namespace shortener::pg {
namespace {

TEST(PostgresUrlTest, RedactsTheUrlAndAQuotedPassword) {
  const std::string url = "postgres://app:s3cret%zz@db.internal:5432/links";
  EXPECT_EQ(redact_password("bad URI: \"" + url + "\"", url),
            "bad URI: \"postgres://app:***@db.internal:5432/links\"");
  EXPECT_EQ(redact_password(R"(invalid percent-encoded token: "s3cret%zz")", url),
            R"(invalid percent-encoded token: "***")");
  EXPECT_EQ(redact_password("connection refused", url), "connection refused");
  EXPECT_EQ(redact_password("x", "postgres://app@db/links"), "x");         // no password
  EXPECT_EQ(redact_password("x", "postgres://db/links?user=a:b@c"), "x");  // '@' after '/'
}

TEST(PostgresUrlTest, MalformedUrlErrorsDoNotCarryThePassword) {
  for (const std::string url :
       {"postgres://u:pa%zzssword@127.0.0.1:1/db", "postgres://u:password1@[::1/db",
        "postgres://u:pass%00word@127.0.0.1:1/db", "postgres://u:password1@127.0.0.1:1/db"}) {
    auto db = Connection::open(url, ConnectOptions{});
    ASSERT_FALSE(db.has_value()) << url;
    EXPECT_EQ(db.error().detail.find("pass"), std::string::npos) << db.error().detail;
    EXPECT_NE(db.error().detail.find("PostgreSQL"), std::string::npos) << db.error().detail;
  }
}

}  // namespace
}  // namespace shortener::pg
