// Runs the port contracts against SqliteStore: a new database file in a new temporary
// directory for every test.
#include <gtest/gtest.h>

#include <memory>

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

INSTANTIATE_TEST_SUITE_P(Sqlite, LinkStoreContract, testing::Values(sqlite_factory()),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, AccountStoreContract, testing::Values(sqlite_factory()),
                         factory_name);

}  // namespace
}  // namespace shortener::contract
