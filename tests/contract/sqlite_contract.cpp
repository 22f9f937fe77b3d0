// Runs the port contracts against SqliteStore: a new database file in a new temporary
// directory for every test.
#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "click_store_factory.h"
#include "storage/sqlite/sqlite_click_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "store_factory.h"
#include "temp_dir.h"

namespace shortener::contract {
namespace {

StoreFactory sqlite_factory() {
  return StoreFactory{
      .name = "file",
      .make =
          [] {
            auto dir = std::make_shared<TempDir>();
            // Fewer readers than the concurrency tests have threads, so waiting for a free
            // reader gets exercised too.
            auto store = SqliteStore::open((dir->path() / "shortener.db").string(),
                                           SqliteOptions{.readers = 3});
            if (!store) {
              ADD_FAILURE() << "SqliteStore::open: " << store.error().detail;
              return Stores{};
            }
            std::shared_ptr<SqliteStore> shared = std::move(*store);
            return Stores{.backend = dir, .links = shared, .accounts = shared};
          },
  };
}

// The analytics store comes from a SqliteStore on the same file, as in the app.
ClickStoreFactory sqlite_click_factory() {
  return ClickStoreFactory{
      .name = "file",
      .make =
          [] {
            auto dir = std::make_shared<TempDir>();
            auto store = SqliteStore::open((dir->path() / "shortener.db").string());
            if (!store) {
              ADD_FAILURE() << "SqliteStore::open: " << store.error().detail;
              return ClickStores{};
            }
            auto click_store = (*store)->open_click_store();
            if (!click_store) {
              ADD_FAILURE() << "open_click_store: " << click_store.error().detail;
              return ClickStores{};
            }
            // pair: the store is destroyed before the directory it lives in.
            auto backend =
                std::make_shared<std::pair<std::shared_ptr<TempDir>, std::shared_ptr<SqliteStore>>>(
                    dir, std::move(*store));
            std::shared_ptr<SqliteClickStore> shared = std::move(*click_store);
            return ClickStores{.backend = backend, .clicks = shared, .stats = shared};
          },
  };
}

INSTANTIATE_TEST_SUITE_P(Sqlite, LinkStoreContract, testing::Values(sqlite_factory()),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, AccountStoreContract, testing::Values(sqlite_factory()),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, ClickStoreContract, testing::Values(sqlite_click_factory()),
                         click_factory_name);

}  // namespace
}  // namespace shortener::contract
