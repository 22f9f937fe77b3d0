// Where the enrichment tests find their data: the files scripts/fetch-data.sh installs under
// third_party/npm/node_modules, and Debian's uap-core package. Each path can be overridden by
// an environment variable. Tests that need a file fail (never skip) when it is missing: the
// test setup is expected to have run fetch-data.sh.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace shortener::enrich::test {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

inline std::string npm_dir() {
  return env_or("SHORTENER_NPM_DATA_DIR", SHORTENER_NPM_DATA_DIR);
}
inline std::string system_uap_dir() {
  return env_or("SHORTENER_SYSTEM_UAP_DIR", SHORTENER_SYSTEM_UAP_DIR);
}

// The regexes the service loads by default: npm's uap-core (newer than Debian's here).
inline std::string uap_regexes() {
  return env_or("SHORTENER_UAP_REGEXES", npm_dir() + "/uap-core/regexes.yaml");
}
inline std::string crawler_list() {
  return env_or("SHORTENER_CRAWLER_LIST",
                npm_dir() + "/crawler-user-agents/crawler-user-agents.json");
}
inline std::string country_db(const char* family /* "ipv4" or "ipv6" */) {
  return npm_dir() + "/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-" + family +
         ".mmdb";
}

// Fails the current test (fatal in the caller's ASSERT_TRUE) when `path` does not exist.
inline ::testing::AssertionResult data_file(const std::string& path) {
  if (std::filesystem::exists(path)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << path << " is missing: run scripts/fetch-data.sh (or set the override variable)";
}

}  // namespace shortener::enrich::test
