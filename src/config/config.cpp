#include "config/config.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <fstream>
#include <ostream>

#include "config/cpus.h"
#include "core/url_policy.h"

namespace shortener {

namespace {

constexpr int kUsageExitCode = 2;

// Every option reads SHORTENER_<NAME> too; CLI11 gives the command line precedence.
std::string env_name(const std::string& flag) {
  std::string env = "SHORTENER_";
  for (char c : flag.substr(2)) env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return env;
}

template <class T>
CLI::Option* option(CLI::App& app, const std::string& flag, T& value, const std::string& help) {
  return app.add_option(flag, value, help)->envname(env_name(flag))->capture_default_str();
}

CLI::Option* flag(CLI::App& app, const std::string& name, bool& value, const std::string& help) {
  return app.add_flag(name, value, help)->envname(env_name(name));
}

void add_store_options(CLI::App& app, StoreConfig& store) {
  option(app, "--data-dir", store.data_dir, "Directory for the SQLite database and local state");
  option(app, "--database-url", store.database_url,
         "postgres://... to use PostgreSQL instead of SQLite");
  option(app, "--pool-size", store.pool_size, "PostgreSQL connections")->check(CLI::Range(1, 256));
}

void add_enrich_options(CLI::App& app, EnrichConfig& c) {
  option(app, "--data-files", c.data_files,
         "Directory holding the npm data packages (default: third_party/npm/node_modules "
         "next to the binary's parent directory)");
  app.add_option("--geoip-db", c.geoip_dbs,
                 "MMDB geolocation database; repeat for separate IPv4/IPv6 files "
                 "(default: the bundled country database)")
      ->envname("SHORTENER_GEOIP_DB")
      ->delimiter(',');
  option(app, "--uap-regexes", c.uap_regexes, "uap-core regexes.yaml for User-Agent parsing");
  option(app, "--crawler-list", c.crawler_list, "crawler-user-agents.json bot patterns");
  option(app, "--raw-retention-days", c.raw_retention_days,
         "Days raw clicks are kept (rollups are kept forever)")
      ->check(CLI::Range(1, 36500));
  flag(app, "--keep-ip-prefix", c.keep_ip_prefix,
       "Store the /24 (IPv4) or /48 (IPv6) of click addresses (default: no address at all)");
}

void add_redis_options(CLI::App& app, std::string& url, std::string& prefix,
                       const std::string& url_help) {
  option(app, "--redis-url", url, url_help);
  option(app, "--redis-prefix", prefix,
         "Prefix of every Redis key and channel (several deployments on one Redis)");
}

void add_log_options(CLI::App& app, LogConfig& c) {
  option(app, "--log-level", c.level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  option(app, "--log-format", c.format, "text (for people) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  flag(app, "--access-log", c.access_log,
       "Log every HTTP request: method, path without query, status, duration, client, request id");
}

void add_serve_options(CLI::App& app, ServeConfig& c) {
  add_store_options(app, c.store);
  option(app, "--listen", c.listen, "Address to listen on, HOST:PORT (port 0: any free port)");
  option(app, "--public-url", c.public_url,
         "Base URL of short links (default: http://HOST:PORT of the listener)");
  option(app, "--threads", c.threads,
         "I/O threads (0: one per CPU this process may use: affinity, cgroup quota)")
      ->check(CLI::Range(0, 256));
  option(app, "--trust-proxy", c.trust_proxy_text,
         "Comma-separated CIDRs of proxies whose X-Forwarded-For is believed");
  app.add_option("--admin-key", c.admin_key, "Admin API key (created and printed when absent)")
      ->envname("SHORTENER_ADMIN_KEY");
  add_redis_options(app, c.redis_url, c.redis_prefix,
                    "redis://[:PASSWORD@]HOST:PORT[/DB]: production mode (cache, click queue, live "
                    "feed, rate limits in Redis; needs --database-url)");
  flag(app, "--no-anonymous", c.no_anonymous, "Refuse link creation without an API key");
  option(app, "--anon-rate-limit", c.anon_rate_limit,
         "Anonymous link creations per minute per client address")
      ->check(CLI::Range(1, 1'000'000));
  option(app, "--slug-length", c.slug_length, "Length of random slugs")->check(CLI::Range(5, 32));
  option(app, "--max-url-length", c.max_url_length, "Longest accepted destination URL")
      ->check(CLI::Range(64, 65536));
  option(app, "--blocklist", c.blocklist_file, "File of refused destination domains, one per line")
      ->check(CLI::ExistingFile);
  option(app, "--max-body-bytes", c.max_body_bytes, "Largest request body (larger: 413)")
      ->check(CLI::Range(1024, 16 << 20));
  option(app, "--max-header-bytes", c.max_header_bytes, "Largest request head (larger: 431)")
      ->check(CLI::Range(1024, 1 << 20));
  option(app, "--header-timeout", c.header_timeout_s, "Seconds to receive a request head")
      ->check(CLI::Range(1, 3600));
  option(app, "--body-timeout", c.body_timeout_s, "Seconds to receive a request body")
      ->check(CLI::Range(1, 3600));
  option(app, "--idle-timeout", c.idle_timeout_s, "Seconds an idle keep-alive connection lives")
      ->check(CLI::Range(1, 3600));
  option(app, "--cache-entries", c.cache_entries, "L1 link cache capacity (entries)")
      ->check(CLI::Range(std::size_t{16}, std::size_t{100'000'000}));
  option(app, "--cache-mb", c.cache_mb, "L1 link cache capacity (MiB)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
  add_enrich_options(app, c.enrich);
  option(app, "--worker-threads", c.worker_threads,
         "Click enrichment threads (embedded mode, or "
         "with --with-worker)")
      ->check(CLI::Range(1, 64));
  option(app, "--click-buffer", c.click_buffer,
         "Clicks buffered between redirects and the queue (beyond: dropped, counted)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{16'000'000}));
  flag(app, "--with-worker", c.with_worker,
       "Production mode: also run click workers in this process");
  flag(app, "--no-migrate", c.no_migrate, "Production mode: do not apply schema migrations");
  option(app, "--web-dir", c.web_dir,
         "Built web app to serve (default: web/dist of the source tree the binary was built in)");
  add_log_options(app, c.log);
}

// A data dir we cannot create or write into is a start-up error, reported before anything runs.
std::optional<std::string> check_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create data dir " + dir.string() + ": " + ec.message();
  auto probe = dir / ".write-test";
  {
    std::ofstream out(probe);
    if (!out || !(out << "ok") || !out.flush())
      return "data dir " + dir.string() + " is not writable";
  }
  std::filesystem::remove(probe, ec);
  return std::nullopt;
}

std::optional<std::string> validate_store(const StoreConfig& store) {
  if (!store.database_url.empty() && !store.database_url.starts_with("postgres://") &&
      !store.database_url.starts_with("postgresql://"))
    return "--database-url must start with postgres:// or postgresql://";
  return check_data_dir(store.data_dir);
}

// "HOST:PORT" (IPv6 in brackets) -> host and port; an error sentence otherwise.
std::optional<std::string> parse_listen(const std::string& flag, const std::string& text,
                                        std::string& host_out, std::uint16_t& port_out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return flag + " must be HOST:PORT";
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port_text = std::string_view(text).substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return flag + " port must be a number from 0 to 65535";
  if (!IpAddress::parse(host) && host != "localhost")
    return flag + " host must be an IP address or localhost";
  host_out = host == "localhost" ? "127.0.0.1" : host;
  port_out = static_cast<std::uint16_t>(port);
  return std::nullopt;
}

std::optional<std::string> validate_serve(ServeConfig& c) {
  if (auto problem = parse_listen("--listen", c.listen, c.listen_host, c.listen_port))
    return problem;
  if (!c.public_url.empty()) {
    auto public_host = host_of(c.public_url);
    if (!public_host) return "--public-url: " + public_host.error().detail;
    while (c.public_url.ends_with('/')) c.public_url.pop_back();
  }
  auto ranges = parse_cidr_list(c.trust_proxy_text);
  if (!ranges) return "--trust-proxy: " + ranges.error().detail;
  c.trust_proxy = std::move(*ranges);
  if (c.threads == 0) c.threads = static_cast<int>(usable_cpus());
  if (c.admin_key && c.admin_key->size() < 16) return "--admin-key must be at least 16 characters";
  if (!c.redis_url.empty() && !c.redis_url.starts_with("redis://"))
    return "--redis-url must start with redis://";
  if (!c.redis_url.empty() && c.store.database_url.empty())
    return "--redis-url (production mode) needs --database-url postgres://...";
  if (c.with_worker && c.redis_url.empty())
    return "--with-worker is for production mode (--redis-url); the embedded default always "
           "runs its click workers";
  return validate_store(c.store);
}

std::optional<std::string> validate_worker(WorkerConfig& c) {
  if (c.store.database_url.empty()) return "worker needs --database-url (PostgreSQL)";
  if (!c.redis_url.starts_with("redis://")) return "worker needs --redis-url redis://HOST:PORT";
  if (!c.pushgateway_url.empty() && !c.pushgateway_url.starts_with("http://"))
    return "--pushgateway-url must start with http://";
  if (auto problem =
          parse_listen("--metrics-listen", c.metrics_listen, c.metrics_host, c.metrics_port))
    return problem;
  return validate_store(c.store);
}

}  // namespace

std::string default_public_url(const std::string& host, std::uint16_t port) {
  std::string shown = host;
  if (host == "0.0.0.0" || host == "::")
    shown = "localhost";
  else if (host.find(':') != std::string::npos)
    shown = "[" + host + "]";
  return "http://" + shown + ":" + std::to_string(port);
}

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  CLI::App app{"shortener: a URL shortener with real-time click analytics", "shortener"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");

  ServeConfig serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve redirects, the API and the dashboard");
  add_serve_options(*serve_cmd, serve);

  WorkerConfig worker;
  auto* worker_cmd = app.add_subcommand(
      "worker", "Production mode: consume clicks from Redis, enrich, store in PostgreSQL");
  add_store_options(*worker_cmd, worker.store);
  add_enrich_options(*worker_cmd, worker.enrich);
  add_redis_options(*worker_cmd, worker.redis_url, worker.redis_prefix,
                    "redis://[:PASSWORD@]HOST:PORT[/DB] of the click queue");
  option(*worker_cmd, "--concurrency", worker.concurrency, "Consumer threads")
      ->check(CLI::Range(1, 64));
  option(*worker_cmd, "--metrics-listen", worker.metrics_listen,
         "HOST:PORT serving /metrics, /healthz and /readyz");
  option(*worker_cmd, "--pushgateway-url", worker.pushgateway_url,
         "http://HOST:PORT of a Prometheus Pushgateway to push this worker's metrics to");
  option(*worker_cmd, "--push-interval", worker.push_interval_s,
         "Seconds between Pushgateway pushes")
      ->check(CLI::Range(1, 3600));
  add_log_options(*worker_cmd, worker.log);

  MigrateConfig migrate;
  auto* migrate_cmd =
      app.add_subcommand("migrate", "Apply schema migrations (safe to run twice or concurrently)");
  add_store_options(*migrate_cmd, migrate.store);

  DeadLettersConfig dead;
  auto* dead_cmd =
      app.add_subcommand("dead-letters",
                         "Production mode: list or replay batches of clicks that failed to store")
          ->require_subcommand(1);
  auto* dead_list =
      dead_cmd->add_subcommand("list", "Print dead letters, oldest first, as JSON lines");
  auto* dead_replay =
      dead_cmd->add_subcommand("replay", "Move dead letters back into the click stream");
  for (auto* cmd : {dead_list, dead_replay}) {
    add_redis_options(*cmd, dead.redis_url, dead.redis_prefix,
                      "redis://[:PASSWORD@]HOST:PORT[/DB] of the click queue");
    // Per-invocation choices: command line only (a generic SHORTENER_LIMIT would surprise).
    cmd->add_option("--limit", dead.limit, "At most this many")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  }
  dead_list->add_option("--after", dead.after, "List the page after this dead-letter id");
  dead_replay->add_option("--id", dead.ids, "Dead-letter id to replay (repeatable)");
  dead_replay->add_flag("--all", dead.all, "Replay the oldest --limit dead letters");

  KeysCreateConfig keys;
  auto* keys_cmd = app.add_subcommand("keys", "Manage API keys")->require_subcommand(1);
  auto* create_cmd =
      keys_cmd->add_subcommand("create", "Create an account with a new API key; prints the key");
  add_store_options(*create_cmd, keys.store);
  create_cmd->add_flag("--admin", keys.admin, "Give the account admin rights");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    err << "shortener: " << e.what() << " (see --help)\n";
    return kUsageExitCode;
  }

  std::optional<std::string> problem;
  if (serve_cmd->parsed()) {
    problem = validate_serve(serve);
    if (!problem) return serve;
  } else if (worker_cmd->parsed()) {
    problem = validate_worker(worker);
    if (!problem) return worker;
  } else if (dead_cmd->parsed()) {
    dead.replay = dead_replay->parsed();
    if (!dead.redis_url.starts_with("redis://"))
      problem = "dead-letters needs --redis-url redis://HOST:PORT";
    else if (dead.replay && dead.all == !dead.ids.empty())
      problem = "dead-letters replay needs either --all or one or more --id";
    else
      return dead;
  } else if (migrate_cmd->parsed()) {
    problem = validate_store(migrate.store);
    if (!problem) return migrate;
  } else {
    problem = validate_store(keys.store);
    if (!problem) return keys;
  }
  err << "shortener: " << *problem << "\n";
  return kUsageExitCode;
}

}  // namespace shortener
