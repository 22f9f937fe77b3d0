// How an analytics adapter joins the ClickStore/StatsStore contract suite
// (click_store_contract.cpp): its <adapter>_contract.cpp builds a ClickStoreFactory and adds
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, ClickStoreContract, testing::Values(sqlite_click_factory()),
//                            click_factory_name);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/click_ports.h"

namespace shortener::contract {

// A fresh, empty analytics store; both ports over the same data.
struct ClickStores {
  std::shared_ptr<void> backend;  // destroyed last: what the stores live in
  std::shared_ptr<ClickStore> clicks;
  std::shared_ptr<StatsStore> stats;
};

struct ClickStoreFactory {
  std::string name;                   // the test name suffix: letters, digits and '_' only
  std::function<ClickStores()> make;  // called once per test
};

inline void PrintTo(const ClickStoreFactory& factory, std::ostream* out) {
  *out << factory.name;
}

inline std::string click_factory_name(const testing::TestParamInfo<ClickStoreFactory>& info) {
  return info.param.name;
}

class ClickStoreContract : public testing::TestWithParam<ClickStoreFactory> {
 protected:
  void SetUp() override {
    stores_ = GetParam().make();
    ASSERT_NE(stores_.clicks, nullptr);
    ASSERT_NE(stores_.stats, nullptr);
  }

  ClickStore& clicks() { return *stores_.clicks; }
  StatsStore& stats() { return *stores_.stats; }

  // Calls that must succeed: a failure is reported and an empty value returned.
  WriteResult write(std::vector<EnrichedClick>& batch) {
    auto result = clicks().write(batch);
    EXPECT_TRUE(result) << (result ? "" : result.error().detail);
    return result.value_or(WriteResult{});
  }
  WriteResult write_copy(std::vector<EnrichedClick> batch) { return write(batch); }

  Stats query(const StatsQuery& q) {
    auto result = stats().stats(q);
    EXPECT_TRUE(result) << (result ? "" : result.error().detail);
    return result.value_or(Stats{});
  }

  std::vector<EnrichedClick> exported(std::int64_t link, TimeUs from, TimeUs to) {
    std::vector<EnrichedClick> rows;
    auto ok = stats().export_clicks(link, from, to, [&](const EnrichedClick& c) {
      rows.push_back(c);
      return true;
    });
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().detail);
    return rows;
  }

  ClickStores stores_;
};

}  // namespace shortener::contract
