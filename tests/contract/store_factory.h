// How a storage adapter joins the port contract suites.
//
// The suites (link_store_contract.cpp, account_store_contract.cpp) are value-parameterised over
// a StoreFactory. An adapter adds one file, e.g. sqlite_contract.cpp, that builds a factory and
// instantiates both suites with it:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, LinkStoreContract, testing::Values(sqlite_factory()),
//                            factory_name);
//
// and lists that file in tests/contract/CMakeLists.txt. Nothing else changes.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "core/ports.h"

namespace shortener::contract {

// Fresh, empty stores over one backend (links may name accounts, so both ports share it).
struct Stores {
  // Declared first so it is destroyed last: whatever the stores live in (a temporary
  // directory, a throwaway schema) must outlast them.
  std::shared_ptr<void> backend;
  std::shared_ptr<LinkStore> links;
  std::shared_ptr<AccountStore> accounts;
};

struct StoreFactory {
  std::string name;  // the test name suffix: letters, digits and '_' only
  // Called once per test; every test starts from an empty database.
  std::function<Stores()> make;
};

// Keeps gtest from printing the factory's bytes into every test name.
inline void PrintTo(const StoreFactory& factory, std::ostream* out) {
  *out << factory.name;
}

inline std::string factory_name(const testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

// Shared fixture: SetUp builds fresh stores from the factory under test.
class StoreContract : public testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    stores_ = GetParam().make();
    ASSERT_NE(stores_.links, nullptr);
    ASSERT_NE(stores_.accounts, nullptr);
  }

  LinkStore& links() { return *stores_.links; }
  AccountStore& accounts() { return *stores_.accounts; }

  Stores stores_;
};

class LinkStoreContract : public StoreContract {};
class AccountStoreContract : public StoreContract {};

}  // namespace shortener::contract
