// `shortener serve`: redirects, the API and the dashboard. Embedded default: SQLite plus
// in-process cache, queue, click workers and live feed. Production mode (--redis-url):
// PostgreSQL plus Redis, a stateless replica (click workers only with --with-worker).
#include <spdlog/spdlog.h>

#include <iostream>

#include "app/backplane.h"
#include "app/commands.h"
#include "app/common.h"
#include "app/logging.h"
#include "app/stores.h"
#include "core/link_service.h"
#include "core/url_policy.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/request_metrics.h"
#include "worker/click_buffer.h"
#include "worker/periodic.h"

namespace shortener {

namespace {

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

}  // namespace

int serve(ServeConfig config) {
  configure_logging(config.log);
  const bool production = !config.redis_url.empty();
  std::unique_ptr<Backplane> backplane;
  if (production) {
    auto made = make_redis_backplane(config);
    if (!made) {
      std::cerr << "shortener: --redis-url: " << made.error().detail << "\n";
      return exit_code_for(made.error());
    }
    backplane = std::move(*made);
  } else {
    backplane = make_embedded_backplane(config);
  }
  auto stores = open_stores(config.store, std::max(2, config.threads), !config.no_migrate);
  if (!stores) {
    std::cerr << "shortener: " << stores.error().detail << "\n";
    return exit_code_for(stores.error());
  }
  // Only a process that runs click workers needs the enrichment data (~1 s to compile).
  std::unique_ptr<ClickEnricher> enricher;
  if (backplane->worker_queue() != nullptr) {
    auto options = enricher_options(config.enrich, config.store.data_dir);
    options.shared_salts = backplane->shared_salts();
    auto loaded = load_enricher(options);
    if (!loaded) return kStartupFailure;
    enricher = std::move(*loaded);
  }

  RequestMetrics requests;
  auto access_log = make_access_log(config.log, config.trust_proxy);
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
      .access_log = access_log.get(),
  });
  std::string public_url = config.public_url.empty()
                               ? default_public_url(config.listen_host, server.port())
                               : config.public_url;
  auto policy = url_policy(config, public_url);
  if (!policy) {
    std::cerr << "shortener: " << policy.error().detail << "\n";
    return kUsageError;
  }

  SystemClock clock;
  LinkService links(*stores->links, *stores->accounts, backplane->cache(), backplane->limiter(),
                    clock,
                    LinkServiceOptions{.slug_length = config.slug_length,
                                       .allow_anonymous = !config.no_anonymous,
                                       .url_policy = std::move(*policy)});
  auto admin = links.ensure_admin(config.admin_key);
  if (!admin) {
    std::cerr << "shortener: admin key: " << admin.error().detail << "\n";
    return exit_code_for(admin.error());
  }

  ClickBuffer buffer(config.click_buffer, static_cast<std::size_t>(config.threads));
  ClickShipper shipper(buffer, backplane->queue());
  WorkerMetrics worker_metrics;
  std::unique_ptr<ClickWorkers> workers;
  if (ClickQueue* source = backplane->worker_queue())
    workers =
        std::make_unique<ClickWorkers>(*source, *enricher, *stores->clicks, backplane->live(),
                                       ClickWorkerOptions{.threads = config.worker_threads,
                                                          .on_batch = worker_metrics.observer()});
  backplane->start();
  shipper.start();
  if (workers) workers->start();
  // Click retention and geolocation reloads belong to whoever stores clicks.
  std::optional<PeriodicTask> maintenance;
  if (workers)
    maintenance.emplace(std::chrono::seconds(30), [&] {
      run_click_maintenance(*stores->clicks, *enricher, clock, config.enrich.raw_retention_days);
    });

  auto web =
      http::StaticAssets::load(config.web_dir.empty() ? install_root() / "web" / "dist"
                                                      : std::filesystem::path(config.web_dir));
  spdlog::info("web app: {} files", web.files());
  http::Router router(http::RouteContext{
      .links = links,
      .clicks = buffer,
      .stats = *stores->stats,
      .live = backplane->live(),
      .clock = clock,
      .public_url = public_url,
      .trusted_proxies = config.trust_proxy,
      // Embedded: no database, no service. Production: a replica without PostgreSQL still
      // serves every cached link, so it stays in the load balancer and says it is degraded.
      .ready = [&stores, production]() -> Result<void> {
        if (production) return {};
        return stores->links->ping();
      },
      .degraded = [&stores, &backplane, production]() -> std::string {
        if (production)
          if (auto ping = stores->links->ping(); !ping)
            return "database unavailable: cached links only, link changes answer 503";
        return backplane->degraded();
      },
      .metrics =
          [&] {
            std::string out;
            render_process_metrics(out, enricher.get());
            requests.render(out);
            metrics::append(out, "shortener_clicks_enqueued_total", "counter",
                            "Clicks accepted from redirects.",
                            static_cast<double>(buffer.accepted()));
            metrics::append(out, "shortener_clicks_dropped_total", "counter",
                            "Clicks lost because the buffer or queue was full.",
                            static_cast<double>(buffer.dropped() + shipper.dropped()));
            if (workers) worker_metrics.render(out, *workers);
            backplane->render_metrics(out);
            return out;
          },
      .web = &web,
  });
  if (*admin) std::cout << "admin key: " << **admin << "\n  (shown once; stored hashed)\n";
  if (enricher)
    for (const auto& db : enricher->geo_databases())
      spdlog::info("geolocation database {} ({}), built {}", db.path, db.type, db.build_epoch);
  std::cout << "listening on " << default_public_url(config.listen_host, server.port())
            << "\nshort links: " << public_url << "/{slug}" << std::endl;
  server.run(router, [&] {
    if (!enricher) return;
    auto reloaded = enricher->reload_geo();
    spdlog::info("SIGHUP: geolocation reload {}", reloaded ? "done" : reloaded.error().detail);
  });

  // Shutdown: hand over every buffered click, process what the deadline allows, keep the rest.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  maintenance.reset();
  shipper.stop();
  backplane->stop(workers.get(), deadline);
  spdlog::info("stopped");
  if (workers) exit_now_if_stuck(*workers);
  return 0;
}

}  // namespace shortener
