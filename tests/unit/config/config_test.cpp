#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>
#include <vector>

namespace shortener {
namespace {

struct Parsed {
  CommandLine result;
  std::string out, err;
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "shortener");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  auto result = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(result), out.str(), err.str()};
}

std::string temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("cfg-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(Config, ServeDefaults) {
  auto p = parse({"serve", "--data-dir", temp_dir()});
  auto* c = std::get_if<ServeConfig>(&p.result);
  ASSERT_NE(c, nullptr) << p.err;
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_GE(c->threads, 1);
  EXPECT_TRUE(c->trust_proxy.empty());
  EXPECT_FALSE(c->admin_key);
}

TEST(Config, FlagsWinOverEnvironment) {
  ::setenv("SHORTENER_LISTEN", "127.0.0.1:9999", 1);
  ::setenv("SHORTENER_SLUG_LENGTH", "9", 1);
  auto p = parse({"serve", "--data-dir", temp_dir(), "--listen", "127.0.0.1:7000"});
  ::unsetenv("SHORTENER_LISTEN");
  ::unsetenv("SHORTENER_SLUG_LENGTH");
  auto* c = std::get_if<ServeConfig>(&p.result);
  ASSERT_NE(c, nullptr) << p.err;
  EXPECT_EQ(c->listen_port, 7000);  // flag
  EXPECT_EQ(c->slug_length, 9);     // environment
}

TEST(Config, TrustProxyParsesCidrs) {
  auto p = parse({"serve", "--data-dir", temp_dir(), "--trust-proxy", "10.0.0.0/8, ::1"});
  auto* c = std::get_if<ServeConfig>(&p.result);
  ASSERT_NE(c, nullptr) << p.err;
  ASSERT_EQ(c->trust_proxy.size(), 2u);
  EXPECT_EQ(c->trust_proxy[0].prefix, 8);
  EXPECT_EQ(c->trust_proxy[1].prefix, 128);
}

TEST(Config, PublicUrlLosesTrailingSlash) {
  auto p = parse({"serve", "--data-dir", temp_dir(), "--public-url", "https://sho.rt/"});
  auto* c = std::get_if<ServeConfig>(&p.result);
  ASSERT_NE(c, nullptr) << p.err;
  EXPECT_EQ(c->public_url, "https://sho.rt");
}

// Each bad input: exit code 2 and exactly one line on stderr.
TEST(Config, BadInputIsOneLineAndExitCode2) {
  std::string dir = temp_dir();
  std::vector<std::vector<std::string>> cases = {
      {"serve", "--no-such-flag"},
      {"serve", "--data-dir", dir, "--listen", "nonsense"},
      {"serve", "--data-dir", dir, "--listen", "127.0.0.1:70000"},
      {"serve", "--data-dir", dir, "--listen", "example.com:80"},
      {"serve", "--data-dir", dir, "--public-url", "ftp://x"},
      {"serve", "--data-dir", dir, "--public-url", "not a url"},
      {"serve", "--data-dir", dir, "--trust-proxy", "10.0.0.0/33"},
      {"serve", "--data-dir", dir, "--threads", "-1"},
      {"serve", "--data-dir", dir, "--admin-key", "short"},
      {"serve", "--data-dir", dir, "--database-url", "mysql://x"},
      {"serve", "--data-dir", "/proc/definitely/not/writable"},
      {"serve", "--data-dir", dir, "--slug-length", "2"},
      {"keys"},
      {"bogus"},
      {},
  };
  for (const auto& args : cases) {
    auto p = parse(args);
    auto* code = std::get_if<int>(&p.result);
    ASSERT_NE(code, nullptr) << "accepted: " << ::testing::PrintToString(args);
    EXPECT_EQ(*code, 2) << ::testing::PrintToString(args);
    EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << p.err;
  }
}

TEST(Config, HelpOnEverySubcommandExitsZero) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"serve", "--help"}, {"keys", "--help"}, {"keys", "create", "--help"}}) {
    auto p = parse(args);
    auto* code = std::get_if<int>(&p.result);
    ASSERT_NE(code, nullptr);
    EXPECT_EQ(*code, 0);
    EXPECT_NE(p.out.find("--"), std::string::npos) << p.out;
  }
}

TEST(Config, LogOptions) {
  auto defaults = parse({"serve", "--data-dir", temp_dir()});
  auto* d = std::get_if<ServeConfig>(&defaults.result);
  ASSERT_NE(d, nullptr) << defaults.err;
  EXPECT_EQ(d->log.level, "info");
  EXPECT_EQ(d->log.format, "text");
  EXPECT_FALSE(d->log.access_log);

  auto p = parse({"serve", "--data-dir", temp_dir(), "--log-level", "debug", "--log-format", "json",
                  "--access-log"});
  auto* c = std::get_if<ServeConfig>(&p.result);
  ASSERT_NE(c, nullptr) << p.err;
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->log.format, "json");
  EXPECT_TRUE(c->log.access_log);

  ::setenv("SHORTENER_LOG_FORMAT", "json", 1);
  ::setenv("SHORTENER_ACCESS_LOG", "true", 1);
  auto from_env = parse({"serve", "--data-dir", temp_dir()});
  ::unsetenv("SHORTENER_LOG_FORMAT");
  ::unsetenv("SHORTENER_ACCESS_LOG");
  auto* e = std::get_if<ServeConfig>(&from_env.result);
  ASSERT_NE(e, nullptr) << from_env.err;
  EXPECT_EQ(e->log.format, "json");
  EXPECT_TRUE(e->log.access_log);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"serve", "--data-dir", temp_dir(), "--log-format", "xml"},
           {"serve", "--data-dir", temp_dir(), "--log-level", "loud"},
           {"worker", "--log-format", "logfmt"}}) {
    auto bad = parse(args);
    auto* code = std::get_if<int>(&bad.result);
    ASSERT_NE(code, nullptr) << "accepted: " << ::testing::PrintToString(args);
    EXPECT_EQ(*code, 2);
  }
  auto help = parse({"worker", "--help"});
  EXPECT_NE(help.out.find("--log-format"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--access-log"), std::string::npos) << help.out;
}

TEST(Config, DefaultPublicUrl) {
  EXPECT_EQ(default_public_url("0.0.0.0", 8080), "http://localhost:8080");
  EXPECT_EQ(default_public_url("127.0.0.1", 80), "http://127.0.0.1:80");
  EXPECT_EQ(default_public_url("::1", 8080), "http://[::1]:8080");
}

// Production mode: what each subcommand needs, and the one-line error for what is missing.
int exit_of(const Parsed& p) {
  const int* code = std::get_if<int>(&p.result);
  return code == nullptr ? -1 : *code;
}

TEST(Config, ProductionServeNeedsPostgresForRedis) {
  auto p = parse({"serve", "--data-dir", temp_dir(), "--redis-url", "redis://127.0.0.1:6379"});
  EXPECT_EQ(exit_of(p), 2);
  EXPECT_NE(p.err.find("needs --database-url"), std::string::npos) << p.err;
  auto ok = parse({"serve", "--data-dir", temp_dir(), "--redis-url", "redis://127.0.0.1:6379",
                   "--database-url", "postgres://u@127.0.0.1/db", "--redis-prefix",
                   "a:", "--with-worker"});
  auto* c = std::get_if<ServeConfig>(&ok.result);
  ASSERT_NE(c, nullptr) << ok.err;
  EXPECT_EQ(c->redis_prefix, "a:");
  EXPECT_TRUE(c->with_worker);
}

TEST(Config, WithWorkerIsForProductionMode) {
  auto p = parse({"serve", "--data-dir", temp_dir(), "--with-worker"});
  EXPECT_EQ(exit_of(p), 2);
  EXPECT_NE(p.err.find("--with-worker is for production mode"), std::string::npos) << p.err;
}

TEST(Config, WorkerNeedsPostgresAndRedis) {
  auto none = parse({"worker", "--data-dir", temp_dir()});
  EXPECT_EQ(exit_of(none), 2);
  EXPECT_NE(none.err.find("--database-url"), std::string::npos) << none.err;
  auto no_redis =
      parse({"worker", "--data-dir", temp_dir(), "--database-url", "postgres://u@h/db"});
  EXPECT_EQ(exit_of(no_redis), 2);
  EXPECT_NE(no_redis.err.find("--redis-url"), std::string::npos) << no_redis.err;
  auto bad_gateway =
      parse({"worker", "--data-dir", temp_dir(), "--database-url", "postgres://u@h/db",
             "--redis-url", "redis://h:1", "--pushgateway-url", "https://gw:9091"});
  EXPECT_EQ(exit_of(bad_gateway), 2);
  EXPECT_NE(bad_gateway.err.find("--pushgateway-url"), std::string::npos) << bad_gateway.err;
  auto ok = parse({"worker", "--data-dir", temp_dir(), "--database-url", "postgres://u@h/db",
                   "--redis-url", "redis://h:1", "--concurrency", "3", "--metrics-listen",
                   "127.0.0.1:0", "--pushgateway-url", "http://gw:9091", "--push-interval", "5"});
  auto* c = std::get_if<WorkerConfig>(&ok.result);
  ASSERT_NE(c, nullptr) << ok.err;
  EXPECT_EQ(c->concurrency, 3);
  EXPECT_EQ(c->metrics_port, 0);
  EXPECT_EQ(c->push_interval_s, 5);
}

TEST(Config, DeadLettersListAndReplay) {
  auto list = parse(
      {"dead-letters", "list", "--redis-url", "redis://h:1", "--limit", "5", "--after", "1-0"});
  auto* l = std::get_if<DeadLettersConfig>(&list.result);
  ASSERT_NE(l, nullptr) << list.err;
  EXPECT_FALSE(l->replay);
  EXPECT_EQ(l->limit, 5u);
  EXPECT_EQ(l->after, "1-0");
  auto replay =
      parse({"dead-letters", "replay", "--redis-url", "redis://h:1", "--id", "1-0", "--id", "2-0"});
  auto* r = std::get_if<DeadLettersConfig>(&replay.result);
  ASSERT_NE(r, nullptr) << replay.err;
  EXPECT_TRUE(r->replay);
  EXPECT_EQ(r->ids, (std::vector<std::string>{"1-0", "2-0"}));
  // Neither or both of --all and --id: a usage error.
  for (auto args :
       {std::vector<std::string>{"dead-letters", "replay", "--redis-url", "redis://h:1"},
        std::vector<std::string>{"dead-letters", "replay", "--redis-url", "redis://h:1", "--all",
                                 "--id", "1-0"}}) {
    auto p = parse(args);
    EXPECT_EQ(exit_of(p), 2);
    EXPECT_NE(p.err.find("either --all or"), std::string::npos) << p.err;
  }
  auto no_redis = parse({"dead-letters", "list"});
  EXPECT_EQ(exit_of(no_redis), 2);
  EXPECT_NE(no_redis.err.find("--redis-url"), std::string::npos) << no_redis.err;
}

}  // namespace
}  // namespace shortener
