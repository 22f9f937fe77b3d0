// User-Agent parsing with uap-core's regexes.yaml: browser, OS and device as uap-core defines
// them, plus the coarse device class the analytics store. Thread-safe; results of repeated
// User-Agents come from a bounded LRU cache.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace shortener::enrich {

// How a click's device is counted. `bot` comes from uap-core's "Spider" device here; the
// BotDetector knows more bots, and the worker should store `bot` for whatever it flags.
enum class DeviceClass { desktop, mobile, tablet, bot, other };
std::string_view to_string(DeviceClass device_class);

// uap-core's output. Version parts are empty when unknown; families are "Other" when no rule
// matched (also for empty or garbage input).
struct UserAgent {
  struct Browser {
    std::string family = "Other";
    std::string major, minor, patch;
  };
  struct Os {
    std::string family = "Other";
    std::string major, minor, patch, patch_minor;
  };
  struct Device {
    std::string family = "Other";
    std::string brand, model;
  };
  Browser browser;
  Os os;
  Device device;
  DeviceClass device_class = DeviceClass::other;
};

struct UserAgentParserOptions {
  // Distinct User-Agents remembered (0: no cache). Real traffic is heavily skewed, so a few
  // thousand entries catch most clicks; each costs ~1 KB with the key.
  std::size_t cache_entries = 16384;
  // Longer User-Agents are matched on their first bytes only and not cached: real ones stay
  // under ~500 bytes, and an 8 KB header must not cost 8 KB of cache or a long match.
  std::size_t max_length = 1024;
  // Largest RE2 memory budget (program + lazily built DFA) of one rule. Each rule gets
  // 8 KiB per program instruction within [256 KiB, this]: a DFA at its budget resets or falls
  // back to the NFA, it never grows past it. info().regex_memory_cap sums the budgets.
  std::int64_t regex_max_mem = 16 << 20;
  // RE2 memory of each section's prefilter, a set of the rules' literals (three sets). Past
  // it the section is matched rule by rule (counted in stats().set_fallbacks).
  std::int64_t set_max_mem = 16 << 20;
};

class UserAgentParser {
 public:
  struct Info {
    std::size_t browser_rules = 0, os_rules = 0, device_rules = 0;  // all compiled, in order
    std::int64_t regex_memory_cap = 0;  // bytes RE2 may hold at most for this parser
  };
  struct Stats {
    std::uint64_t cache_hits = 0, cache_misses = 0, set_fallbacks = 0;
  };

  // Loads and compiles a uap-core regexes.yaml. Errc::unavailable when the file cannot be read,
  // Errc::invalid_input when it is malformed or a pattern does not compile with RE2.
  static Result<UserAgentParser> load(const std::string& regexes_path,
                                      const UserAgentParserOptions& options = {});

  UserAgentParser(UserAgentParser&&) noexcept;
  UserAgentParser& operator=(UserAgentParser&&) noexcept;
  ~UserAgentParser();

  // Never fails: anything unrecognised is "Other" / DeviceClass::other.
  UserAgent parse(std::string_view user_agent) const;
  // The same without the cache: what a cold User-Agent costs (benchmarks, accuracy tests).
  UserAgent parse_uncached(std::string_view user_agent) const;

  Info info() const;
  Stats stats() const;

 private:
  struct Impl;
  explicit UserAgentParser(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The device class of a parsed User-Agent (see device_class.cpp for the rules).
DeviceClass classify_device(const UserAgent& parsed, std::string_view user_agent);

}  // namespace shortener::enrich
