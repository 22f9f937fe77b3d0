#include "storage/postgres/postgres_store.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/pool.h"
#include "storage/postgres/postgres_click_store.h"
#include "storage/postgres/statements.h"

namespace shortener {

using pg::Params;
using pg::PgResult;
using pg::propagate;

namespace {

// The service clamps page sizes already; this only stops a careless caller from reading a
// whole table into memory.
constexpr int kMaxListLimit = 1000;

// Columns in the order of LINK_COLUMNS (statements.cpp).
Link read_link(const PgResult& rows, int r) {
  Link link;
  link.id = rows.int64(r, 0);
  link.slug = rows.text(r, 1);
  link.url = rows.text(r, 2);
  link.title = rows.text(r, 3);
  link.account_id = rows.optional_int64(r, 4).value_or(0);
  link.stats_token = rows.text(r, 5);
  link.created_at = rows.int64(r, 6);
  link.expires_at = rows.optional_int64(r, 7);
  link.deleted_at = rows.optional_int64(r, 8);
  return link;
}

std::optional<std::int64_t> account_column(std::int64_t account_id) {
  if (account_id == 0) return std::nullopt;  // anonymous: NULL, which the foreign key allows
  return account_id;
}

pg::ConnectOptions connect_options(const PostgresOptions& options) {
  return pg::ConnectOptions{.connect_timeout = options.connect_timeout,
                            .statement_timeout = options.statement_timeout};
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& url,
                                                           const PostgresOptions& options) {
  if (!pg::is_postgres_url(url)) return fail(Errc::invalid_input, "not a postgres:// URL");
  auto pool = pg::Pool::open(url, connect_options(options), options.pool_size,
                             [](pg::Connection& db) -> Result<void> {
                               if (auto ok = pg::check_schema(db); !ok) return ok;
                               return pg::stmt::prepare_link_statements(db);
                             });
  if (!pool) return propagate(pool);
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(*pool), url, options));
}

PostgresStore::PostgresStore(std::unique_ptr<pg::Pool> pool, std::string url,
                             PostgresOptions options)
    : pool_(std::move(pool)), url_(std::move(url)), options_(options) {}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresClickStore>> PostgresStore::open_click_store(int pool_size) const {
  PostgresOptions options = options_;
  options.pool_size = pool_size;
  return PostgresClickStore::open(url_, options);
}

Result<Link> PostgresStore::create_link(const NewLink& link) {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  Params params;
  params.add(link.slug).add(link.url).add(link.title).add(account_column(link.account_id));
  params.add(link.stats_token).add(link.created_at).add(link.expires_at);
  auto rows = (*db)->run(pg::stmt::kInsertLink, params);
  if (!rows && rows.error().code == Errc::conflict) {
    return fail(Errc::conflict, "slug already taken: " + link.slug);
  }
  if (!rows) return propagate(rows);
  if (rows->rows() != 1) return fail(Errc::internal, "INSERT INTO links returned no id");
  return Link{.id = rows->int64(0, 0),
              .slug = link.slug,
              .url = link.url,
              .title = link.title,
              .account_id = link.account_id,
              .stats_token = link.stats_token,
              .created_at = link.created_at,
              .expires_at = link.expires_at,
              .deleted_at = std::nullopt};
}

Result<Link> PostgresStore::find_link(std::string_view slug) {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows = (*db)->run(pg::stmt::kFindLink, Params().add(slug));
  if (!rows) return propagate(rows);
  if (rows->rows() == 0) return fail(Errc::not_found, "no link with slug " + std::string(slug));
  return read_link(*rows, 0);
}

Result<LinkPage> PostgresStore::list_links(std::int64_t account_id, int limit,
                                           std::optional<std::int64_t> cursor) {
  const int page_size = std::clamp(limit, 1, kMaxListLimit);
  // One row more than the page tells whether another page exists without a COUNT.
  Params params;
  if (account_id != 0) params.add(account_id);
  params.add(cursor.value_or(std::numeric_limits<std::int64_t>::max()));
  params.add(std::int64_t{page_size} + 1);
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows =
      (*db)->run(account_id != 0 ? pg::stmt::kListLinks : pg::stmt::kListAnonymousLinks, params);
  if (!rows) return propagate(rows);
  LinkPage page;
  for (int r = 0; r < rows->rows(); ++r) page.links.push_back(read_link(*rows, r));
  if (page.links.size() > static_cast<std::size_t>(page_size)) {
    page.links.pop_back();
    page.next_cursor = page.links.back().id;
  }
  return page;
}

Result<Link> PostgresStore::update_link(std::string_view slug, const LinkPatch& patch) {
  Params params;
  params.add(slug);
  params.add(patch.url.has_value());
  patch.url ? params.add(*patch.url) : params.null();
  params.add(patch.title.has_value());
  patch.title ? params.add(*patch.title) : params.null();
  params.add(patch.expires_at.has_value());
  params.add(patch.expires_at ? *patch.expires_at : std::nullopt);  // NULL clears the expiry
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows = (*db)->run(pg::stmt::kUpdateLink, params);
  if (!rows) return propagate(rows);
  if (rows->rows() == 0) {
    return fail(Errc::not_found, "no live link with slug " + std::string(slug));
  }
  return read_link(*rows, 0);
}

Result<void> PostgresStore::delete_link(std::string_view slug, TimeUs at) {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto done = (*db)->run(pg::stmt::kDeleteLink, Params().add(slug).add(at));
  if (!done) return propagate(done);
  if (done->affected() == 0) {
    return fail(Errc::not_found, "no live link with slug " + std::string(slug));
  }
  return {};
}

Result<void> PostgresStore::ping() {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows = (*db)->run(pg::stmt::kPing, Params());
  if (!rows) return propagate(rows);
  return {};
}

Result<Account> PostgresStore::create_account(bool admin, std::string_view key_hash, TimeUs at) {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows = (*db)->run(pg::stmt::kInsertAccount, Params().add(admin).add(key_hash).add(at));
  if (!rows && rows.error().code == Errc::conflict) {
    return fail(Errc::conflict, "API key already registered");
  }
  if (!rows) return propagate(rows);
  if (rows->rows() != 1) return fail(Errc::internal, "INSERT INTO accounts returned no id");
  return Account{.id = rows->int64(0, 0), .admin = admin, .created_at = at};
}

Result<Account> PostgresStore::find_account_by_key_hash(std::string_view key_hash) {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows = (*db)->run(pg::stmt::kFindAccount, Params().add(key_hash));
  if (!rows) return propagate(rows);
  // The hash is a secret's fingerprint: keep it out of the error detail (and so out of logs).
  if (rows->rows() == 0) return fail(Errc::not_found, "unknown API key");
  return Account{
      .id = rows->int64(0, 0), .admin = rows->boolean(0, 1), .created_at = rows->int64(0, 2)};
}

Result<bool> PostgresStore::has_admin() {
  auto db = pool_->acquire();
  if (!db) return propagate(db);
  auto rows = (*db)->run(pg::stmt::kHasAdmin, Params());
  if (!rows) return propagate(rows);
  return rows->rows() == 1 && rows->boolean(0, 0);
}

}  // namespace shortener
