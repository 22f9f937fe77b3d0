// PostgresStore: the production LinkStore + AccountStore, on PostgreSQL through libpq.
//
// Threads: a fixed pool of connections (PostgresOptions::pool_size); a call borrows one for its
// statements, so N threads run N statements at once, and a call that finds none free waits for
// one. Each connection prepares its statements once, when it connects. Every statement runs in
// autocommit (account creation is a single statement too), so a read sees every write
// committed before it began, from any connection or replica.
//
// Failures are values: the server unreachable, restarting or gone mid-call -> Errc::unavailable,
// and the next call on that connection reconnects; a slug or key hash taken -> Errc::conflict.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/link.h"
#include "core/ports.h"

namespace shortener {

namespace pg {
class Pool;
}  // namespace pg

class PostgresClickStore;

struct PostgresOptions {
  // Connections this store keeps open. Size it to the threads that call the store at once (the
  // HTTP threads; the worker threads plus stats readers for PostgresClickStore). Clamped to
  // 1..64; mind the server's max_connections across replicas.
  int pool_size = 4;
  // Bounds each connection attempt (start-up and reconnects).
  std::chrono::milliseconds connect_timeout{5000};
  // Bounds each statement, so a stuck query cannot hold a pooled connection forever.
  std::chrono::milliseconds statement_timeout{30000};
};

class PostgresStore final : public LinkStore, public AccountStore {
 public:
  // Connects the pool to `url` (postgres://user[:password]@host[:port]/database[?param=value],
  // any libpq URI parameter allowed) and prepares every statement. Does not migrate: run
  // pg::migrate(url) first. Errc::invalid_input for a URL that is not postgres:// or
  // postgresql://; Errc::unavailable when the server cannot be reached or the database is not
  // migrated to this binary's schema yet; Errc::internal when a newer binary migrated it.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& url,
                                                     const PostgresOptions& options = {});
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  Result<Link> create_link(const NewLink& link) override;
  Result<Link> find_link(std::string_view slug) override;
  Result<LinkPage> list_links(std::int64_t account_id, int limit,
                              std::optional<std::int64_t> cursor) override;
  Result<Link> update_link(std::string_view slug, const LinkPatch& patch) override;
  Result<void> delete_link(std::string_view slug, TimeUs at) override;
  Result<void> ping() override;

  Result<Account> create_account(bool admin, std::string_view key_hash, TimeUs at) override;
  Result<Account> find_account_by_key_hash(std::string_view key_hash) override;
  Result<bool> has_admin() override;

  // The analytics adapter on the same database, with a pool of its own (`pool_size`
  // connections), so click batches and stats queries never hold a redirect's connection.
  Result<std::unique_ptr<PostgresClickStore>> open_click_store(int pool_size = 2) const;

 private:
  PostgresStore(std::unique_ptr<pg::Pool> pool, std::string url, PostgresOptions options);

  std::unique_ptr<pg::Pool> pool_;
  std::string url_;
  PostgresOptions options_;
};

}  // namespace shortener
