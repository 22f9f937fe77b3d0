#include "worker/enrich/user_agent.h"

#include <atomic>
#include <optional>

#include "worker/enrich/lru_cache.h"
#include "worker/enrich/ua_rules.h"
#include "worker/enrich/yaml_tree.h"

namespace shortener::enrich {
namespace {

// Field order of each section's RuleFields, with uap-core's defaults (spec 0.2): browser and
// OS fields default to groups 1..n; a device's family and model default to group 1, its brand
// to nothing.
const RuleSchema browser_schema{
    {"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement"}, {1, 2, 3, 4}};
const RuleSchema os_schema{{"os_replacement", "os_v1_replacement", "os_v2_replacement",
                            "os_v3_replacement", "os_v4_replacement"},
                           {1, 2, 3, 4, 5}};
const RuleSchema device_schema{{"device_replacement", "brand_replacement", "model_replacement"},
                               {1, 0, 1}};

std::string family_or_other(std::string family) {
  return family.empty() ? std::string("Other") : std::move(family);
}

Result<RuleSection> compile_section(const YamlNode& root, std::string_view name,
                                    const RuleSchema& schema, const RegexBudget& budget) {
  const YamlNode* rules = root.find(name);
  if (rules == nullptr) return fail(Errc::invalid_input, "no " + std::string(name) + " section");
  auto section = RuleSection::compile(*rules, schema, budget);
  if (!section) {
    return fail(Errc::invalid_input, std::string(name) + ": " + section.error().detail);
  }
  return section;
}

}  // namespace

std::string_view to_string(DeviceClass device_class) {
  switch (device_class) {
    case DeviceClass::desktop:
      return "desktop";
    case DeviceClass::mobile:
      return "mobile";
    case DeviceClass::tablet:
      return "tablet";
    case DeviceClass::bot:
      return "bot";
    case DeviceClass::other:
      break;
  }
  return "other";
}

struct UserAgentParser::Impl {
  RuleSection browser;
  RuleSection os;
  RuleSection device;
  UserAgentParserOptions options;
  mutable ShardedLruCache<UserAgent> cache;
  mutable std::atomic<std::uint64_t> hits{0};
  mutable std::atomic<std::uint64_t> misses{0};

  UserAgent parse(std::string_view ua) const {
    std::string lowered(ua);
    for (char& c : lowered) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    UserAgent out;
    if (auto f = browser.match(ua, lowered)) {
      out.browser = {family_or_other(std::move((*f)[0])), std::move((*f)[1]), std::move((*f)[2]),
                     std::move((*f)[3])};
    }
    if (auto f = os.match(ua, lowered)) {
      out.os = {family_or_other(std::move((*f)[0])), std::move((*f)[1]), std::move((*f)[2]),
                std::move((*f)[3]), std::move((*f)[4])};
    }
    if (auto f = device.match(ua, lowered)) {
      out.device = {family_or_other(std::move((*f)[0])), std::move((*f)[1]), std::move((*f)[2])};
    }
    out.device_class = classify_device(out, ua);
    return out;
  }
};

Result<UserAgentParser> UserAgentParser::load(const std::string& regexes_path,
                                              const UserAgentParserOptions& options) {
  auto root = load_yaml_file(regexes_path);
  if (!root) return std::unexpected(root.error());
  const RegexBudget budget{options.regex_max_mem, options.set_max_mem};
  auto browser = compile_section(*root, "user_agent_parsers", browser_schema, budget);
  if (!browser) return std::unexpected(browser.error());
  auto os = compile_section(*root, "os_parsers", os_schema, budget);
  if (!os) return std::unexpected(os.error());
  auto device = compile_section(*root, "device_parsers", device_schema, budget);
  if (!device) return std::unexpected(device.error());
  return UserAgentParser(
      std::unique_ptr<Impl>(new Impl{std::move(*browser), std::move(*os), std::move(*device),
                                     options, ShardedLruCache<UserAgent>(options.cache_entries)}));
}

UserAgentParser::UserAgentParser(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UserAgentParser::UserAgentParser(UserAgentParser&&) noexcept = default;
UserAgentParser& UserAgentParser::operator=(UserAgentParser&&) noexcept = default;
UserAgentParser::~UserAgentParser() = default;

UserAgent UserAgentParser::parse(std::string_view user_agent) const {
  if (user_agent.size() > impl_->options.max_length) return parse_uncached(user_agent);
  if (auto cached = impl_->cache.get(user_agent)) {
    impl_->hits.fetch_add(1, std::memory_order_relaxed);
    return std::move(*cached);
  }
  impl_->misses.fetch_add(1, std::memory_order_relaxed);
  UserAgent parsed = impl_->parse(user_agent);
  impl_->cache.put(user_agent, parsed);
  return parsed;
}

UserAgent UserAgentParser::parse_uncached(std::string_view user_agent) const {
  return impl_->parse(user_agent.substr(0, impl_->options.max_length));
}

UserAgentParser::Info UserAgentParser::info() const {
  return {impl_->browser.size(), impl_->os.size(), impl_->device.size(),
          impl_->browser.memory_cap() + impl_->os.memory_cap() + impl_->device.memory_cap()};
}

UserAgentParser::Stats UserAgentParser::stats() const {
  return {
      impl_->hits.load(std::memory_order_relaxed), impl_->misses.load(std::memory_order_relaxed),
      impl_->browser.set_fallbacks() + impl_->os.set_fallbacks() + impl_->device.set_fallbacks()};
}

}  // namespace shortener::enrich
