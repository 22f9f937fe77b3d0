#include "app/stores.h"

#include "core/time.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/postgres_click_store.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_click_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace shortener {

namespace {

// One adapter object serves links + accounts, another clicks + stats, for every backend.
template <class LinkAdapter, class ClickAdapter>
Stores assemble(std::shared_ptr<LinkAdapter> links, std::shared_ptr<ClickAdapter> analytics) {
  return Stores{.links = links.get(),
                .accounts = links.get(),
                .clicks = analytics.get(),
                .stats = analytics.get(),
                .link_owner = links,
                .click_owner = analytics};
}

Result<Stores> open_sqlite(const StoreConfig& config, int readers) {
  auto store = SqliteStore::open((config.data_dir / "shortener.db").string(),
                                 SqliteOptions{.readers = readers});
  if (!store) return std::unexpected(store.error());
  auto clicks = (*store)->open_click_store(std::max(2, readers));
  if (!clicks) return std::unexpected(clicks.error());
  return assemble(std::shared_ptr<SqliteStore>(std::move(*store)),
                  std::shared_ptr<SqliteClickStore>(std::move(*clicks)));
}

Result<Stores> open_postgres(const StoreConfig& config, bool migrate) {
  if (migrate) {
    auto version = pg::migrate(config.database_url);
    if (!version) return std::unexpected(version.error());
  }
  auto store =
      PostgresStore::open(config.database_url, PostgresOptions{.pool_size = config.pool_size});
  if (!store) return std::unexpected(store.error());
  auto clicks = (*store)->open_click_store(std::max(2, config.pool_size / 2));
  if (!clicks) return std::unexpected(clicks.error());
  std::shared_ptr<PostgresClickStore> analytics = std::move(*clicks);
  Stores stores = assemble(std::shared_ptr<PostgresStore>(std::move(*store)), analytics);
  stores.postgres_clicks = analytics.get();
  return stores;
}

}  // namespace

Result<Stores> open_stores(const StoreConfig& config, int readers, bool migrate) {
  if (config.database_url.empty()) return open_sqlite(config, readers);
  return open_postgres(config, migrate);
}

Result<int> migrate_store(const StoreConfig& config) {
  if (!config.database_url.empty()) return pg::migrate(config.database_url);
  auto store = SqliteStore::open((config.data_dir / "shortener.db").string());
  if (!store) return std::unexpected(store.error());
  auto clicks = (*store)->open_click_store(1);
  if (!clicks) return std::unexpected(clicks.error());
  return 0;  // SQLite migrates on open; the version is recorded in schema_migrations
}

}  // namespace shortener
