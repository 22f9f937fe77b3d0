// `shortener worker`: production-mode click consumers (Redis Streams -> enrich -> PostgreSQL),
// any number of processes; and `shortener dead-letters`, the operator's view of clicks that
// could not be stored.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <iostream>
#include <optional>

#include "app/commands.h"
#include "app/common.h"
#include "app/logging.h"
#include "app/redis_names.h"
#include "app/stores.h"
#include "http/server.h"
#include "live/memory/memory_live_feed.h"
#include "live/redis/redis_live_feed.h"
#include "metrics/pushgateway.h"
#include "metrics/request_metrics.h"
#include "queue/redis/redis_click_queue.h"
#include "redis/redis_config.h"
#include "storage/postgres/postgres_click_store.h"
#include "worker/periodic.h"

namespace shortener {

namespace {

constexpr std::string_view kProblem = "application/problem+json";

// /metrics, /healthz and /readyz on --metrics-listen; everything else is 404.
class WorkerEndpoints final : public http::RequestHandler {
 public:
  WorkerEndpoints(std::function<std::string()> metrics, std::function<std::string()> unready)
      : metrics_(std::move(metrics)), unready_(std::move(unready)) {}

  std::string metrics() const { return metrics_(); }

  bool try_handle_fast(const http::Request& request, http::Response& response) override {
    if (request.path != "/healthz") return false;
    if (!allowed(request, response)) return true;
    response.route = "healthz";
    response.cache_control = "no-store";
    response.set(200, "application/json", R"({"status":"ok"})");
    return true;
  }

  void handle(const http::Request& request, http::Response& response) override {
    if (!allowed(request, response)) return;
    response.cache_control = "no-store";
    if (request.path == "/metrics") {
      response.route = "metrics";
      response.set(200, "text/plain; version=0.0.4; charset=utf-8", metrics_());
    } else if (request.path == "/readyz") {
      response.route = "readyz";
      std::string problem = unready_();
      if (problem.empty()) {
        response.set(200, "application/json", R"({"status":"ready"})");
      } else {
        boost::json::object body{{"status", "unavailable"}, {"reason", problem}};
        response.set(503, "application/json", boost::json::serialize(body));
        response.headers.emplace_back("Retry-After", "5");
      }
    } else {
      response.route = "not_found";
      response.set(404, kProblem,
                   R"({"type":"/problems/not-found","title":"Not Found","status":404,)"
                   R"("detail":"The worker serves /metrics, /healthz and /readyz only."})");
    }
  }

 private:
  static bool allowed(const http::Request& request, http::Response& response) {
    if (request.is_get_or_head()) return true;
    response.set(405, kProblem,
                 R"({"type":"/problems/method-not-allowed","title":"Method Not Allowed",)"
                 R"("status":405,"detail":"Use GET."})");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return false;
  }

  std::function<std::string()> metrics_;
  std::function<std::string()> unready_;
};

void render_backlog(std::string& out, RedisClickQueue& stream, const RedisClient& client) {
  auto backlog = stream.backlog();
  render_redis_client(out, client, backlog.has_value());
  if (!backlog) return;  // unknown: no sample rather than a wrong one
  metrics::append(out, "shortener_click_queue_length", "gauge",
                  "Clicks in the Redis click stream (queued and in flight).",
                  static_cast<double>(backlog->length));
  metrics::append(out, "shortener_click_queue_pending", "gauge",
                  "Entries delivered to a worker and not yet acknowledged (consumer lag).",
                  static_cast<double>(backlog->pending));
  metrics::append(out, "shortener_click_dead_letters", "gauge",
                  "Entries (batches of clicks) in the dead-letter stream (see `shortener "
                  "dead-letters`).",
                  static_cast<double>(backlog->dead));
  auto q = stream.counters();
  metrics::append(out, "shortener_click_stream_reclaimed_total", "counter",
                  "Entries taken over from consumers presumed dead.",
                  static_cast<double>(q.reclaimed));
  metrics::append(out, "shortener_click_stream_dead_lettered_total", "counter",
                  "Entries this process moved to the dead-letter stream.",
                  static_cast<double>(q.dead_lettered));
}

void render_store_counters(std::string& out, const PostgresClickCounters& c) {
  metrics::append(out, "shortener_click_rollup_folds_total", "counter",
                  "Folds of pending rollup increments this process committed.",
                  static_cast<double>(c.folds));
  metrics::append(out, "shortener_click_rollup_fold_skips_total", "counter",
                  "Folds this process left to another one that was folding.",
                  static_cast<double>(c.fold_skips));
  metrics::append(out, "shortener_click_rollup_fold_failures_total", "counter",
                  "Folds that failed (the increments stay pending; stats stay exact).",
                  static_cast<double>(c.fold_failures));
  metrics::append(out, "shortener_click_rollup_fold_seconds_total", "counter",
                  "Time spent in committed folds.", c.fold_seconds);
  metrics::append(out, "shortener_click_store_copy_conflicts_total", "counter",
                  "Batches whose COPY met an event stored before and went again as INSERT.",
                  static_cast<double>(c.copy_conflicts));
}

Result<RedisConfig> redis_config(const std::string& url) {
  auto config = parse_redis_url(url);
  if (!config) std::cerr << "shortener: --redis-url: " << config.error().detail << "\n";
  return config;
}

}  // namespace

int run_worker(WorkerConfig config) {
  configure_logging(config.log);
  auto redis = redis_config(config.redis_url);
  if (!redis) return kUsageError;
  auto stores = open_stores(config.store, config.concurrency + 1, /*migrate=*/true);
  if (!stores) {
    std::cerr << "shortener: " << stores.error().detail << "\n";
    return exit_code_for(stores.error());
  }
  RedisClient client(*redis, static_cast<std::size_t>(config.concurrency) + 4);
  RedisClickQueue stream(client, redis_queue_options(config.redis_prefix));
  if (auto group = stream.ensure_group(); !group)
    spdlog::warn("redis: click stream not ready yet ({}); retrying", group.error().detail);
  MemoryLiveFeed no_local_subscribers;
  RedisLiveFeed live(client, *redis, no_local_subscribers, redis_live_options(config.redis_prefix));
  RedisSharedSalts salts(client, config.redis_prefix);
  auto options = enricher_options(config.enrich, config.store.data_dir);
  options.shared_salts = &salts;
  auto enricher = load_enricher(options);
  if (!enricher) return kStartupFailure;

  WorkerMetrics worker_metrics;
  ClickWorkers workers(
      stream, **enricher, *stores->clicks, live,
      ClickWorkerOptions{.threads = config.concurrency, .on_batch = worker_metrics.observer()});
  RequestMetrics requests;  // probes and scrapes of this endpoint
  auto access_log = make_access_log(config.log, {});
  http::Server server(http::ServerOptions{.host = config.metrics_host,
                                          .port = config.metrics_port,
                                          .threads = 1,
                                          .blocking_threads = 2,
                                          .drain_timeout = std::chrono::milliseconds(1000),
                                          .observer = &requests,
                                          .access_log = access_log.get()});
  WorkerEndpoints endpoints(
      [&] {
        std::string out;
        render_process_metrics(out, enricher->get());
        requests.render(out);
        worker_metrics.render(out, workers);
        render_backlog(out, stream, client);
        if (stores->postgres_clicks != nullptr)
          render_store_counters(out, stores->postgres_clicks->counters());
        return out;
      },
      [&]() -> std::string {
        if (auto ping = stores->links->ping(); !ping) return "database: " + ping.error().detail;
        if (!client.available()) return "redis unavailable";
        return {};
      });
  std::optional<metrics::PushTarget> gateway;
  if (!config.pushgateway_url.empty()) {
    auto parsed = metrics::parse_push_url(config.pushgateway_url);
    if (!parsed) {
      std::cerr << "shortener: " << parsed.error().detail << "\n";
      return kUsageError;
    }
    gateway = *parsed;
  }
  char host[256] = "worker";
  ::gethostname(host, sizeof host - 1);
  // The grouping key: one group per worker process (host plus metrics port).
  std::string instance = std::string(host) + ":" + std::to_string(server.port());
  auto push_metrics = [&] {
    if (!gateway) return;
    if (auto pushed = metrics::push(*gateway, "shortener-worker", instance, endpoints.metrics());
        !pushed)
      spdlog::warn("pushgateway: {}", pushed.error().detail);
  };
  SystemClock clock;
  workers.start();
  std::optional<PeriodicTask> pusher;
  if (gateway) pusher.emplace(std::chrono::seconds(config.push_interval_s), push_metrics);
  PeriodicTask maintenance(std::chrono::seconds(30), [&] {
    run_click_maintenance(*stores->clicks, **enricher, clock, config.enrich.raw_retention_days);
  });
  spdlog::info("worker: {} consumers on {} (stream {})", config.concurrency, redacted_url(*redis),
               redis_queue_options(config.redis_prefix).stream);
  // The same line as serve's, so scripts and tests find the (possibly kernel-chosen) port.
  std::cout << "listening on " << default_public_url(config.metrics_host, server.port())
            << std::endl;
  server.run(endpoints, [&] {
    auto reloaded = (*enricher)->reload_geo();
    spdlog::info("SIGHUP: geolocation reload {}", reloaded ? "done" : reloaded.error().detail);
  });

  // SIGTERM: batches in flight commit and are acknowledged (up to 4 s); the rest stays pending.
  stop_stream_consumers(stream, workers,
                        std::chrono::steady_clock::now() + std::chrono::seconds(4));
  pusher.reset();
  push_metrics();  // the final counters
  auto counters = workers.counters();
  spdlog::info("worker stopped: {} clicks stored, {} duplicates", counters.processed,
               counters.duplicates);
  exit_now_if_stuck(workers);
  return 0;
}

int run_dead_letters(const DeadLettersConfig& config) {
  auto redis = redis_config(config.redis_url);
  if (!redis) return kUsageError;
  RedisClient client(*redis, 2);
  RedisClickQueue stream(client, redis_queue_options(config.redis_prefix));
  if (config.replay) {
    auto replayed = config.all ? stream.replay_all_dead_letters(config.limit)
                               : stream.replay_dead_letters(config.ids);
    if (!replayed) {
      std::cerr << "shortener: dead-letters replay: " << replayed.error().detail << "\n";
      return kStartupFailure;
    }
    std::cout << "replayed " << *replayed << " dead letter" << (*replayed == 1 ? "" : "s")
              << " into the click stream" << std::endl;
    return 0;
  }
  auto letters = stream.dead_letters(config.limit, config.after);
  if (!letters) {
    std::cerr << "shortener: dead-letters list: " << letters.error().detail << "\n";
    return kStartupFailure;
  }
  // One JSON object per line, one per dead-lettered entry (a batch of clicks). The client address
  // is left out: operators need the click's identity and why it failed, not who clicked.
  for (const DeadLetter& letter : *letters) {
    boost::json::object line{{"id", letter.id},
                             {"original_id", letter.original_id},
                             {"deliveries", letter.deliveries},
                             {"reason", letter.reason}};
    if (letter.events) {
      boost::json::array events;
      for (const ClickEvent& event : *letter.events)
        events.push_back(boost::json::object{{"id", event.id},
                                             {"link_id", event.link_id},
                                             {"slug", event.slug},
                                             {"at_us", event.at},
                                             {"user_agent", event.user_agent},
                                             {"referer", event.referer}});
      line["events"] = std::move(events);
    } else {
      line["events"] = nullptr;  // the payload could not be decoded
    }
    std::cout << boost::json::serialize(line) << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace shortener
