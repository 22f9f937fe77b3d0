// The Enricher of the click pipeline: user agent (uap-core via RE2), bots (crawler list + uap
// spiders), geo (MMDB), referrer host, and the unique-visitor key with a daily salt.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "worker/click_pipeline.h"
#include "worker/enrich/bot_detector.h"
#include "worker/enrich/geo_locator.h"
#include "worker/enrich/lru_cache.h"
#include "worker/enrich/user_agent.h"
#include "worker/enrich/visitor_hash.h"

namespace shortener {

// Where the daily visitor salts are agreed when several processes enrich clicks (production:
// every worker must hash a visitor with the same salt, or uniques are over-counted).
class SharedSalts {
 public:
  virtual ~SharedSalts() = default;
  // The salt stored for `day`, or `proposed` once stored; nullopt when the store is unreachable.
  // Stored salts must expire after two days (privacy: old visitor keys become unlinkable).
  virtual std::optional<std::string> agree(enrich::VisitorDay day, const std::string& proposed) = 0;
};

struct EnricherOptions {
  std::string uap_regexes;              // uap-core regexes.yaml
  std::string crawler_list;             // crawler-user-agents.json
  std::vector<std::string> geoip_dbs;   // MMDB files (IPv4 and IPv6 may be separate)
  std::filesystem::path salt_file;      // where the current daily salts live
  SharedSalts* shared_salts = nullptr;  // set: salts are agreed there instead (outlives enricher)
  bool keep_ip_prefix = false;          // store /24 (IPv4) or /48 (IPv6) of the client address
};

// Visitor salts rotate daily: a fresh random salt per UTC day, kept for today and yesterday
// only (late events), persisted so a restart does not double-count today's visitors. Older
// salts are deleted, so older visitor keys cannot be linked to anyone, not even by us.
class DailySalts {
 public:
  explicit DailySalts(std::filesystem::path file, SharedSalts* shared = nullptr);
  // Shared: a concurrent rotation may forget the day while the caller still hashes with it.
  std::shared_ptr<const enrich::VisitorHasher> for_day(enrich::VisitorDay day);

 private:
  void load();
  void save() const;

  std::string agreed_salt(enrich::VisitorDay day, std::string proposed);

  std::filesystem::path file_;
  SharedSalts* shared_;
  std::mutex mutex_;
  std::map<enrich::VisitorDay, std::string> salts_;
  std::map<enrich::VisitorDay, std::shared_ptr<const enrich::VisitorHasher>> hashers_;
};

class ClickEnricher final : public Enricher {
 public:
  static Result<std::unique_ptr<ClickEnricher>> load(const EnricherOptions& options);
  EnrichedClick enrich(const ClickEvent& event) override;

  // Geo databases: reload when their files changed (polled) or on demand (SIGHUP).
  Result<bool> reload_geo_if_changed() { return geo_.reload_if_changed(); }
  Result<void> reload_geo() { return geo_.reload(); }
  std::vector<enrich::GeoDatabase> geo_databases() const { return geo_.databases(); }

 private:
  ClickEnricher(enrich::UserAgentParser ua, enrich::BotDetector bots, enrich::GeoLocator geo,
                const EnricherOptions& options);

  // Everything derived from the User-Agent string alone, cached per string: the parser caches
  // its own result, but bot detection (~1,500 patterns) would otherwise run on every click.
  struct AgentFacts {
    std::string device, browser, browser_version, os, bot_reason;
    bool bot = false;
  };
  std::shared_ptr<const AgentFacts> agent_facts(std::string_view user_agent);

  enrich::UserAgentParser ua_;
  enrich::BotDetector bots_;
  enrich::ShardedLruCache<std::shared_ptr<const AgentFacts>> agents_{32768};
  enrich::GeoLocator geo_;
  DailySalts salts_;
  bool keep_ip_prefix_;
};

}  // namespace shortener
