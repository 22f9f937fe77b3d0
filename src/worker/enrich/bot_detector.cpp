#include "worker/enrich/bot_detector.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <array>
#include <atomic>
#include <vector>

#include "worker/enrich/yaml_tree.h"

namespace shortener::enrich {
namespace {

// Preview fetchers a shared short link meets first; most are in the list already, and a
// match there wins, so these only catch what a given list version lacks. Deliberately not
// here: in-app browsers of real users (Instagram, Snapchat, FBAN/FBAV).
constexpr std::array<std::string_view, 19> kLinkPreviewPatterns = {
    "Slackbot",        "Slack-ImgProxy",   "Twitterbot",   "facebookexternalhit",
    "Facebot",         "facebookcatalog",  "WhatsApp/",    "TelegramBot",
    "Discordbot",      "LinkedInBot",      "Pinterestbot", "redditbot",
    "SkypeUriPreview", "MicrosoftPreview", "Iframely",     "Embedly",
    "vkShare",         "Cardyb",           "Mastodon/"};

// The list is ~1,500 short literal-like patterns; their combined DFA stays far below this.
constexpr std::int64_t kSetMaxMem = 32 << 20;
// Per pattern, only used when the set gives up: patterns are tiny.
constexpr std::int64_t kPatternMaxMem = 256 << 10;

RE2::Options pattern_options(std::int64_t max_mem) {
  RE2::Options options;
  options.set_max_mem(max_mem);
  options.set_encoding(RE2::Options::EncodingLatin1);  // ASCII patterns; see ua_rules.cpp
  options.set_log_errors(false);
  return options;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

std::string_view to_string(BotReason reason) {
  switch (reason) {
    case BotReason::empty_ua:
      return "empty-ua";
    case BotReason::ua_list:
      return "ua-list";
    case BotReason::link_preview:
      return "link-preview";
    case BotReason::uap_spider:
      return "uap-spider";
    case BotReason::none:
      break;
  }
  return "";
}

struct BotDetector::Impl {
  std::vector<std::unique_ptr<RE2>> list;  // compiled list patterns, for the fallback path
  RE2::Set list_set{pattern_options(kSetMaxMem), RE2::UNANCHORED};
  RE2::Set preview_set{pattern_options(kSetMaxMem), RE2::UNANCHORED};
  Info info;
  mutable std::atomic<std::uint64_t> fallbacks{0};

  bool in_list(std::string_view ua) const {
    const re2::StringPiece text(ua.data(), ua.size());
    RE2::Set::ErrorInfo error{};
    // Without an output vector the set stops at the first match.
    if (list_set.Match(text, nullptr, &error)) return true;
    if (error.kind != RE2::Set::kOutOfMemory) return false;
    fallbacks.fetch_add(1, std::memory_order_relaxed);
    for (const auto& re : list) {
      if (RE2::PartialMatch(text, *re)) return true;
    }
    return false;
  }
};

Result<BotDetector> BotDetector::load(const std::string& crawler_list_path) {
  auto root = load_yaml_file(crawler_list_path);
  if (!root) return std::unexpected(root.error());
  if (root->kind != YamlNode::Kind::sequence) {
    return fail(Errc::invalid_input, crawler_list_path + ": expected a JSON list");
  }
  auto impl = std::make_unique<Impl>();
  for (const YamlNode& entry : root->items) {
    const auto pattern = entry.text("pattern");
    if (!pattern) return fail(Errc::invalid_input, crawler_list_path + ": entry without pattern");
    ++impl->info.list_patterns;
    const re2::StringPiece text(pattern->data(), pattern->size());
    auto re = std::make_unique<RE2>(text, pattern_options(kPatternMaxMem));
    if (!re->ok() || impl->list_set.Add(text, nullptr) < 0) {
      ++impl->info.list_skipped;
      continue;
    }
    impl->list.push_back(std::move(re));
    ++impl->info.list_compiled;
  }
  for (const std::string_view pattern : kLinkPreviewPatterns) {
    if (impl->preview_set.Add(re2::StringPiece(pattern.data(), pattern.size()), nullptr) < 0) {
      return fail(Errc::internal, "built-in link-preview pattern " + std::string(pattern));
    }
    ++impl->info.link_preview_patterns;
  }
  if (impl->info.list_compiled == 0) {
    return fail(Errc::invalid_input, crawler_list_path + ": no usable pattern");
  }
  if (!impl->list_set.Compile() || !impl->preview_set.Compile()) {
    return fail(Errc::internal, "bot pattern sets do not fit their memory budget");
  }
  return BotDetector(std::move(impl));
}

BotDetector::BotDetector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BotDetector::BotDetector(BotDetector&&) noexcept = default;
BotDetector& BotDetector::operator=(BotDetector&&) noexcept = default;
BotDetector::~BotDetector() = default;

BotVerdict BotDetector::detect(std::string_view user_agent, const UserAgent& parsed) const {
  if (is_blank(user_agent)) return {BotReason::empty_ua};
  if (impl_->in_list(user_agent)) return {BotReason::ua_list};
  const re2::StringPiece text(user_agent.data(), user_agent.size());
  if (impl_->preview_set.Match(text, nullptr)) return {BotReason::link_preview};
  if (parsed.device.family == "Spider") return {BotReason::uap_spider};
  return {};
}

BotDetector::Info BotDetector::info() const {
  return impl_->info;
}

std::uint64_t BotDetector::set_fallbacks() const {
  return impl_->fallbacks.load(std::memory_order_relaxed);
}

}  // namespace shortener::enrich
