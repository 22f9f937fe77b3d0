// The typed configuration of every subcommand. Flags and SHORTENER_* environment variables map
// onto these structs in config.cpp, which declares every option, default and bound in one
// table per subcommand; the flag wins over the environment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/ip.h"

namespace shortener {

struct StoreConfig {
  std::filesystem::path data_dir = "./data";
  std::string database_url;  // empty: SQLite at data_dir/shortener.db
  int pool_size = 8;         // PostgreSQL connections
};

// Click enrichment and analytics retention: shared by `serve` (in-process workers) and
// `worker`.
struct EnrichConfig {
  std::string data_files;              // root of the npm data packages; empty: next to the binary
  std::vector<std::string> geoip_dbs;  // empty: the country database from data_files
  std::string uap_regexes;             // empty: uap-core's regexes.yaml from data_files
  std::string crawler_list;            // empty: crawler-user-agents.json from data_files
  int raw_retention_days = 90;
  bool keep_ip_prefix = false;
};

// Logging: shared by `serve` and `worker`.
struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error
  std::string format = "text";  // text (human) | json (one object per line)
  bool access_log = false;      // one line per HTTP request
};

struct ServeConfig {
  StoreConfig store;
  std::string listen = "0.0.0.0:8080";
  std::string listen_host;  // split from `listen` by validation
  std::uint16_t listen_port = 8080;
  std::string public_url;  // empty: derived from the bound address at start-up
  int threads = 0;         // 0: one per core
  std::string trust_proxy_text;
  std::vector<Cidr> trust_proxy;
  std::optional<std::string> admin_key;
  std::string redis_url;     // set: production mode (needs --database-url postgres://)
  std::string redis_prefix;  // prepended to every Redis key and channel
  bool no_anonymous = false;
  int anon_rate_limit = 30;  // anonymous creations per minute per client address
  int slug_length = 7;
  std::size_t max_url_length = 2048;
  std::string blocklist_file;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  int header_timeout_s = 10;  // to receive a complete request head
  int body_timeout_s = 30;    // to receive the body once the head arrived
  int idle_timeout_s = 60;    // keep-alive connection with no request in progress
  std::size_t cache_entries = 1'000'000;
  std::size_t cache_mb = 256;
  LogConfig log;
  // Click tracking.
  EnrichConfig enrich;
  int worker_threads = 2;
  bool with_worker = false;  // production mode: also run click workers in this process
  bool no_migrate = false;   // production mode: do not apply schema migrations at start
  std::size_t click_buffer = 65536;
  std::string web_dir;  // built web app; empty: web/dist next to the binary's parent directory
};

// `shortener worker`: click consumers for production mode (Redis Streams -> PostgreSQL).
struct WorkerConfig {
  StoreConfig store;
  std::string redis_url;
  std::string redis_prefix;
  EnrichConfig enrich;
  int concurrency = 2;
  std::string metrics_listen = "0.0.0.0:9091";
  std::string metrics_host;  // split from metrics_listen by validation
  std::uint16_t metrics_port = 9091;
  std::string pushgateway_url;  // set: also push /metrics there every push_interval_s
  int push_interval_s = 15;
  LogConfig log;
};

// `shortener migrate`: apply schema migrations and exit.
struct MigrateConfig {
  StoreConfig store;
};

// `shortener dead-letters list|replay`: inspect and re-queue clicks that exhausted their
// deliveries in production mode.
struct DeadLettersConfig {
  std::string redis_url;
  std::string redis_prefix;
  bool replay = false;           // false: list
  std::size_t limit = 100;       // list: at most this many; replay --all: at most this many
  std::string after;             // list: the page after this dead-letter id
  std::vector<std::string> ids;  // replay: these dead letters
  bool all = false;              // replay: the oldest `limit`
};

struct KeysCreateConfig {
  StoreConfig store;
  bool admin = false;
};

// The outcome of parsing argv: a command to run, or an exit code (help printed: 0; usage or
// configuration error printed as one line: 2).
using CommandLine = std::variant<ServeConfig, KeysCreateConfig, WorkerConfig, MigrateConfig,
                                 DeadLettersConfig, int>;

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err);

// The default public URL for a bound address: http://HOST:PORT, with localhost for a
// wildcard host.
std::string default_public_url(const std::string& host, std::uint16_t port);

}  // namespace shortener
