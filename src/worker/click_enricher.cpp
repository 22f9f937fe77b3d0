#include "worker/click_enricher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/api_key.h"
#include "core/ip.h"
#include "worker/enrich/referrer.h"

namespace shortener {

namespace {

constexpr std::int64_t kDayUs = 86'400'000'000LL;
constexpr std::size_t kSaltBytes = 32;

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// "203.0.113.0/24" or "2001:db8:1::/48": enough for coarse abuse analysis, not a person.
std::string ip_prefix(std::string_view text) {
  auto ip = IpAddress::parse(text);
  if (!ip) return "";
  int keep = ip->v4 ? 3 : 6;
  for (std::size_t i = keep; i < ip->bytes.size(); ++i) ip->bytes[i] = 0;
  return ip->to_string() + (ip->v4 ? "/24" : "/48");
}

}  // namespace

DailySalts::DailySalts(std::filesystem::path file, SharedSalts* shared)
    : file_(std::move(file)), shared_(shared) {
  if (shared_ == nullptr) load();
}

// With shared salts, the first process to propose a salt for the day wins. While the store is
// unreachable this retries for a few seconds (the worker could not acknowledge its batch
// anyway), then hashes with the local proposal: uniques of that day may then be over-counted,
// which is logged, rather than clicks held back.
std::string DailySalts::agreed_salt(enrich::VisitorDay day, std::string proposed) {
  if (shared_ == nullptr) return proposed;
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (auto agreed = shared_->agree(day, proposed)) return *agreed;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::error("visitor salt store unreachable: day {} hashed with a local salt", day);
  return proposed;
}

void DailySalts::load() {
  std::ifstream in(file_);
  enrich::VisitorDay day;
  std::string salt;
  while (in >> day >> salt)
    if (salt.size() >= 2 * enrich::kMinVisitorSaltBytes) salts_[day] = salt;
}

void DailySalts::save() const {
  auto temp = file_;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    for (const auto& [day, salt] : salts_) out << day << ' ' << salt << '\n';
  }
  std::error_code ec;
  std::filesystem::permissions(
      temp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(temp, file_, ec);
}

std::shared_ptr<const enrich::VisitorHasher> DailySalts::for_day(enrich::VisitorDay day) {
  std::lock_guard lock(mutex_);
  if (auto it = hashers_.find(day); it != hashers_.end()) return it->second;
  std::string salt;
  if (auto it = salts_.find(day); it != salts_.end()) {
    salt = it->second;
  } else {
    unsigned char bytes[kSaltBytes];
    random_bytes(bytes, sizeof bytes);
    salt = agreed_salt(day, hex(bytes, sizeof bytes));
    salts_[day] = salt;
    // Forget salts older than yesterday (relative to the newest day seen). An event older
    // than that gets a throwaway salt: it still counts, but cannot be linked to anything.
    enrich::VisitorDay newest = salts_.rbegin()->first;
    std::erase_if(salts_, [&](const auto& item) { return item.first < newest - 1; });
    std::erase_if(hashers_, [&](const auto& item) { return item.first < newest - 1; });
    if (shared_ == nullptr) save();
  }
  auto hasher = std::make_shared<const enrich::VisitorHasher>(salt);
  if (salts_.contains(day)) hashers_.emplace(day, hasher);
  return hasher;
}

ClickEnricher::ClickEnricher(enrich::UserAgentParser ua, enrich::BotDetector bots,
                             enrich::GeoLocator geo, const EnricherOptions& options)
    : ua_(std::move(ua)),
      bots_(std::move(bots)),
      geo_(std::move(geo)),
      salts_(options.salt_file, options.shared_salts),
      keep_ip_prefix_(options.keep_ip_prefix) {}

Result<std::unique_ptr<ClickEnricher>> ClickEnricher::load(const EnricherOptions& options) {
  auto ua = enrich::UserAgentParser::load(options.uap_regexes);
  if (!ua) return std::unexpected(ua.error());
  auto bots = enrich::BotDetector::load(options.crawler_list);
  if (!bots) return std::unexpected(bots.error());
  auto geo = enrich::GeoLocator::open(options.geoip_dbs);
  if (!geo) return std::unexpected(geo.error());
  return std::unique_ptr<ClickEnricher>(
      new ClickEnricher(std::move(*ua), std::move(*bots), std::move(*geo), options));
}

// Longer strings are rare (garbage, attacks) and would let the cache grow to ~entries x 8 KB.
constexpr std::size_t kMaxCachedAgentBytes = 512;

std::shared_ptr<const ClickEnricher::AgentFacts> ClickEnricher::agent_facts(
    std::string_view user_agent) {
  bool cacheable = user_agent.size() <= kMaxCachedAgentBytes;
  if (cacheable) {
    if (auto cached = agents_.get(user_agent)) return *cached;
  }
  enrich::UserAgent agent = ua_.parse_uncached(user_agent);
  auto verdict = bots_.detect(user_agent, agent);
  auto facts = std::make_shared<const AgentFacts>(AgentFacts{
      .device = std::string(enrich::to_string(enrich::stored_device_class(agent, verdict))),
      .browser = std::move(agent.browser.family),
      .browser_version = std::move(agent.browser.major),
      .os = std::move(agent.os.family),
      .bot_reason = verdict.is_bot() ? std::string(enrich::to_string(verdict.reason)) : "",
      .bot = verdict.is_bot()});
  if (cacheable) agents_.put(user_agent, facts);
  return facts;
}

EnrichedClick ClickEnricher::enrich(const ClickEvent& event) {
  EnrichedClick click;
  click.id = event.id;
  click.link_id = event.link_id;
  click.account_id = event.account_id;
  click.slug = event.slug;
  click.at = event.at;
  click.utm_source = enrich::utm_source_of(event.query).value_or("");
  click.destination = event.destination;

  auto location = geo_.lookup(event.ip);
  click.country = std::move(location.country);
  click.region = std::move(location.region);
  click.city = std::move(location.city);

  auto facts = agent_facts(event.user_agent);
  click.bot = facts->bot;
  click.bot_reason = facts->bot_reason;
  click.device = facts->device;
  click.browser = facts->browser;
  click.browser_version = facts->browser_version;
  click.os = facts->os;
  click.referrer = enrich::referrer_host(event.referer);

  enrich::VisitorDay day = event.at / kDayUs;
  click.visitor =
      enrich::visitor_hash_hex(salts_.for_day(day)->hash(event.ip, event.user_agent, day));
  if (keep_ip_prefix_) click.ip_prefix = ip_prefix(event.ip);
  return click;
}

}  // namespace shortener
