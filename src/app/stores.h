// Opens the configured backend: SQLite in the data dir (embedded default) or PostgreSQL
// (--database-url postgres://...). The rest of the process sees ports only.
#pragma once

#include <memory>

#include "config/config.h"
#include "core/click_ports.h"
#include "core/ports.h"

namespace shortener {

class PostgresClickStore;

struct Stores {
  LinkStore* links = nullptr;
  AccountStore* accounts = nullptr;
  ClickStore* clicks = nullptr;
  StatsStore* stats = nullptr;
  PostgresClickStore* postgres_clicks = nullptr;  // the same adapter, in production mode (metrics)
  std::shared_ptr<void> link_owner;               // keeps the adapters alive
  std::shared_ptr<void> click_owner;
};

// `readers`: connections for concurrent reads (SQLite readers / PostgreSQL pool size).
// `migrate`: apply pending schema migrations first (SQLite always migrates on open).
Result<Stores> open_stores(const StoreConfig& config, int readers, bool migrate);

// `shortener migrate`: applies migrations, returns the schema version.
Result<int> migrate_store(const StoreConfig& config);

}  // namespace shortener
