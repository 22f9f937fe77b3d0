#include "app/common.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "metrics/exposition.h"

namespace shortener {

std::filesystem::path install_root() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().parent_path();
}

EnricherOptions enricher_options(const EnrichConfig& config,
                                 const std::filesystem::path& data_dir) {
  std::filesystem::path root = config.data_files;
  if (root.empty()) root = install_root() / "third_party" / "npm" / "node_modules";
  auto country = root / "@ip-location-db" / "geo-whois-asn-country-mmdb";
  EnricherOptions options{
      .uap_regexes = config.uap_regexes.empty() ? (root / "uap-core" / "regexes.yaml").string()
                                                : config.uap_regexes,
      .crawler_list = config.crawler_list.empty()
                          ? (root / "crawler-user-agents" / "crawler-user-agents.json").string()
                          : config.crawler_list,
      .geoip_dbs = config.geoip_dbs,
      .salt_file = data_dir / "visitor-salts",
      .keep_ip_prefix = config.keep_ip_prefix,
  };
  if (options.geoip_dbs.empty())
    options.geoip_dbs = {(country / "geo-whois-asn-country-ipv4.mmdb").string(),
                         (country / "geo-whois-asn-country-ipv6.mmdb").string()};
  return options;
}

Result<std::unique_ptr<ClickEnricher>> load_enricher(const EnricherOptions& options) {
  auto enricher = ClickEnricher::load(options);
  if (!enricher)
    std::cerr << "shortener: click enrichment data: " << enricher.error().detail
              << " (run scripts/fetch-data.sh, or set --data-files)\n";
  return enricher;
}

void run_click_maintenance(ClickStore& clicks, ClickEnricher& enricher, const Clock& clock,
                           int raw_retention_days) {
  TimeUs now = clock.now_us();
  constexpr TimeUs kDayUs = 86'400'000'000LL;
  if (auto pruned = clicks.prune(now - raw_retention_days * kDayUs, now - 2 * kDayUs); !pruned)
    spdlog::warn("click retention: {}", pruned.error().detail);
  if (auto reloaded = enricher.reload_geo_if_changed(); !reloaded)
    spdlog::warn("geolocation reload failed, still serving the previous files: {}",
                 reloaded.error().detail);
  else if (*reloaded)
    spdlog::info("geolocation databases reloaded");
}

void exit_now_if_stuck(const ClickWorkers& workers) {
  if (!workers.stuck()) return;
  spdlog::warn("a click worker is blocked in the store; exiting without waiting for it");
  spdlog::shutdown();
  std::cout.flush();
  std::_Exit(0);
}

void render_process_metrics(std::string& out, const ClickEnricher* enricher) {
  out +=
      "# HELP shortener_build_info The running build.\n# TYPE shortener_build_info gauge\n"
      "shortener_build_info{version=\"" SHORTENER_VERSION "\",commit=\"" SHORTENER_COMMIT "\"} 1\n";
  if (enricher == nullptr) return;
  out +=
      "# HELP shortener_geoip_build_timestamp_seconds When each geolocation database was "
      "built.\n# TYPE shortener_geoip_build_timestamp_seconds gauge\n";
  for (const auto& db : enricher->geo_databases())
    out += "shortener_geoip_build_timestamp_seconds{path=\"" + metrics::escape_label(db.path) +
           "\"} " + std::to_string(db.build_epoch) + "\n";
}

std::function<void(std::size_t, std::chrono::nanoseconds)> WorkerMetrics::observer() {
  return [this](std::size_t events, std::chrono::nanoseconds store_time) {
    batch_sizes_.observe(static_cast<double>(events));
    store_seconds_.observe(std::chrono::duration<double>(store_time).count());
  };
}

void WorkerMetrics::render(std::string& out, const ClickWorkers& workers) const {
  auto w = workers.counters();
  metrics::append(out, "shortener_clicks_processed_total", "counter", "Clicks enriched and stored.",
                  static_cast<double>(w.processed));
  metrics::append(out, "shortener_clicks_duplicate_total", "counter",
                  "Redelivered clicks already stored.", static_cast<double>(w.duplicates));
  metrics::append(out, "shortener_click_store_failures_total", "counter",
                  "Failed click batch writes (retried).", static_cast<double>(w.failures));
  batch_sizes_.render(out, "shortener_click_batch_size", "Clicks per stored batch.");
  store_seconds_.render(out, "shortener_click_store_seconds",
                        "Database write time of one click batch (all attempts).");
}

}  // namespace shortener
