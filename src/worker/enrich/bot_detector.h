// Flags clicks from crawlers, link-preview fetchers and scripts, and says why. Sources, in the
// order they are checked (the first that fires is the reason):
//   empty-ua      the User-Agent is empty or blank (browsers always send one);
//   ua-list       a pattern of crawler-user-agents.json (npm `crawler-user-agents`, MIT);
//   link-preview  a built-in list of chat/social preview fetchers (Slackbot, Twitterbot,
//                 facebookexternalhit, WhatsApp, TelegramBot, Discordbot, ...), in case the
//                 list lacks one;
//   uap-spider    uap-core classified the device as "Spider".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "worker/enrich/user_agent.h"

namespace shortener::enrich {

enum class BotReason { none, empty_ua, ua_list, link_preview, uap_spider };
// "", "empty-ua", "ua-list", "link-preview", "uap-spider": the stored `bot_reason`.
std::string_view to_string(BotReason reason);

struct BotVerdict {
  BotReason reason = BotReason::none;
  bool is_bot() const { return reason != BotReason::none; }
};

// The class to store for a click: whatever the detector flags counts as a bot, even when
// uap-core saw a browser (HeadlessChrome, curl, preview fetchers).
inline DeviceClass stored_device_class(const UserAgent& parsed, const BotVerdict& verdict) {
  return verdict.is_bot() ? DeviceClass::bot : parsed.device_class;
}

class BotDetector {
 public:
  struct Info {
    std::size_t list_patterns = 0;  // entries in crawler-user-agents.json
    std::size_t list_compiled = 0;  // of those, compiled by RE2 and in use
    std::size_t list_skipped = 0;   // not RE2 syntax (or over budget): skipped, never fatal
    std::size_t link_preview_patterns = 0;
  };

  // Errc::unavailable when the file cannot be read, Errc::invalid_input when it is not a JSON
  // list of {"pattern": ...} objects.
  static Result<BotDetector> load(const std::string& crawler_list_path);

  BotDetector(BotDetector&&) noexcept;
  BotDetector& operator=(BotDetector&&) noexcept;
  ~BotDetector();

  // `parsed` is the UserAgentParser's result for the same `user_agent`. Thread-safe.
  BotVerdict detect(std::string_view user_agent, const UserAgent& parsed) const;

  Info info() const;
  // Times the list's set ran out of memory and the patterns were tried one by one.
  std::uint64_t set_fallbacks() const;

 private:
  struct Impl;
  explicit BotDetector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shortener::enrich
