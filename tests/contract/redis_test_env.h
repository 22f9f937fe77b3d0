// The Redis server the Redis tests use: SHORTENER_TEST_REDIS_URL (scripts/redis-test.sh start
// prints one). Without it they skip, or fail when SHORTENER_REQUIRE_REDIS=1 (as in CI).
// Tests share that server and may run in parallel processes, so every test names its keys,
// streams and channels with unique_name(). Tests that stop and start Redis get a server of
// their own (PrivateRedis).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include "redis/redis_config.h"

namespace shortener::contract {

inline bool redis_required() {
  const char* require = std::getenv("SHORTENER_REQUIRE_REDIS");
  return require != nullptr && std::string(require) == "1";
}

inline constexpr const char* kNoRedis =
    "SHORTENER_TEST_REDIS_URL is not set: start a server with "
    "`scripts/redis-test.sh start DIR` and export the URL it prints";

// The configured server, or nullopt after skipping (or failing) the current test.
inline std::optional<RedisConfig> test_redis() {
  const char* url = std::getenv("SHORTENER_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  auto config = parse_redis_url(url);
  if (!config) {
    ADD_FAILURE() << config.error().detail;
    return std::nullopt;
  }
  return *config;
}

// "<base>-<pid>-<n>-<random>": unique across tests and across concurrent test processes.
inline std::string unique_name(const std::string& base) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  return base + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" +
         std::to_string(salt % 100000);
}

// A throwaway redis-server of this test's own, through scripts/redis-test.sh, for fault tests.
class PrivateRedis {
 public:
  PrivateRedis() {
    char pattern[] = "/tmp/shortener-redis-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return;
    dir_ = pattern;
    auto url = run("start");
    if (!url) return;
    auto config = parse_redis_url(*url);
    if (config) config_ = *config;
  }
  ~PrivateRedis() {
    if (!dir_.empty()) (void)run("stop");
  }
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  static bool available() { return std::filesystem::exists("/usr/bin/redis-server"); }
  const std::optional<RedisConfig>& config() const { return config_; }
  bool down() { return run("down").has_value(); }
  bool up() { return run("up").has_value(); }

 private:
  std::optional<std::string> run(const std::string& verb) {
    std::string command =
        "bash " SHORTENER_SOURCE_DIR "/scripts/redis-test.sh " + verb + " '" + dir_.string() + "'";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return std::nullopt;
    std::string out;
    char buffer[256];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    if (pclose(pipe) != 0) return std::nullopt;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  std::filesystem::path dir_;
  std::optional<RedisConfig> config_;
};

}  // namespace shortener::contract
