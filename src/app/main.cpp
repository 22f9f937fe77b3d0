// The wiring list: configuration -> adapters -> services -> listeners. The only file that
// names concrete adapters.
#include <spdlog/spdlog.h>

#include <iostream>
#include <variant>

#include "cache/memory/memory_link_cache.h"
#include "cache/memory/memory_rate_limiter.h"
#include "config/config.h"
#include "core/api_key.h"
#include "core/link_service.h"
#include "core/url_policy.h"
#include "http/router.h"
#include "http/server.h"
#include "storage/sqlite/sqlite_store.h"

namespace shortener {

namespace {

constexpr int kStartupFailure = 1;
constexpr int kUsageError = 2;

// SQLite is the embedded default; PostgreSQL arrives with production mode.
Result<std::unique_ptr<SqliteStore>> open_store(const StoreConfig& config) {
  if (!config.database_url.empty())
    return fail(Errc::invalid_input,
                "--database-url (PostgreSQL) is not supported by this build yet; omit it to use "
                "SQLite in --data-dir");
  return SqliteStore::open((config.data_dir / "shortener.db").string());
}

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

int serve(ServeConfig config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto store = open_store(config.store);
  if (!store) {
    std::cerr << "shortener: " << store.error().detail << "\n";
    return exit_code_for(store.error());
  }

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
  });
  std::string public_url = config.public_url.empty()
                               ? default_public_url(config.listen_host, server.port())
                               : config.public_url;
  auto policy = url_policy(config, public_url);
  if (!policy) {
    std::cerr << "shortener: " << policy.error().detail << "\n";
    return kUsageError;
  }

  MemoryLinkCache cache(MemoryLinkCacheOptions{
      .max_entries = config.cache_entries,
      .max_bytes = config.cache_mb << 20,
      .shards = static_cast<std::size_t>(4 * config.threads)});
  MemoryRateLimiter limiter(config.anon_rate_limit);
  SystemClock clock;
  LinkService links(**store, **store, cache, limiter, clock,
                    LinkServiceOptions{.slug_length = config.slug_length,
                                       .allow_anonymous = !config.no_anonymous,
                                       .url_policy = std::move(*policy)});

  auto admin = links.ensure_admin(config.admin_key);
  if (!admin) {
    std::cerr << "shortener: admin key: " << admin.error().detail << "\n";
    return exit_code_for(admin.error());
  }
  if (*admin) std::cout << "admin key: " << **admin << "\n  (shown once; stored hashed)\n";

  http::Router router(http::RouteContext{
      .links = links,
      .public_url = public_url,
      .trusted_proxies = config.trust_proxy,
      .ready = [&store] { return (*store)->ping(); },
  });
  std::cout << "listening on " << default_public_url(config.listen_host, server.port())
            << "\nshort links: " << public_url << "/{slug}" << std::endl;
  spdlog::info("serving on port {} with {} threads", server.port(), config.threads);
  server.run(router);
  spdlog::info("stopped");
  return 0;
}

int create_key(const KeysCreateConfig& config) {
  auto store = open_store(config.store);
  if (!store) {
    std::cerr << "shortener: " << store.error().detail << "\n";
    return exit_code_for(store.error());
  }
  std::string key = generate_api_key();
  auto account = (*store)->create_account(config.admin, sha256_hex(key), SystemClock{}.now_us());
  if (!account) {
    std::cerr << "shortener: " << account.error().detail << "\n";
    return kStartupFailure;
  }
  std::cout << "created " << (config.admin ? "admin " : "") << "account " << account->id
            << "; its API key (shown once):\n"
            << key << std::endl;
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
    return create_key(std::get<KeysCreateConfig>(command));
  } catch (const std::exception& e) {
    std::cerr << "shortener: " << e.what() << "\n";
    return kStartupFailure;
  }
}
