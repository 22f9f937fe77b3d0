// The AccountStore contract: accounts, their hashed API keys, and the admin flag.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "store_factory.h"

namespace shortener::contract {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

// Shaped like the real thing (64 lower-case hex digits); the store must not care.
std::string hash_of(int n) {
  std::string hash(64, '0');
  const std::string digits = std::to_string(n);
  hash.replace(hash.size() - digits.size(), digits.size(), digits);
  return hash;
}

TEST_P(AccountStoreContract, CreateReturnsTheAccount) {
  auto account = accounts().create_account(true, hash_of(1), kT0 + 42);
  ASSERT_TRUE(account) << account.error().detail;
  EXPECT_GT(account->id, 0);
  EXPECT_TRUE(account->admin);
  EXPECT_EQ(account->created_at, kT0 + 42);
}

TEST_P(AccountStoreContract, FindByKeyHashRoundTrips) {
  auto created = accounts().create_account(false, hash_of(1), kT0);
  ASSERT_TRUE(created);
  auto found = accounts().find_account_by_key_hash(hash_of(1));
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_EQ(found->id, created->id);
  EXPECT_FALSE(found->admin);
  EXPECT_EQ(found->created_at, kT0);
}

TEST_P(AccountStoreContract, DistinctAccountsAreFoundByTheirOwnKeys) {
  auto a = accounts().create_account(false, hash_of(1), kT0);
  auto b = accounts().create_account(true, hash_of(2), kT0);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(accounts().find_account_by_key_hash(hash_of(1))->id, a->id);
  EXPECT_EQ(accounts().find_account_by_key_hash(hash_of(2))->id, b->id);
  EXPECT_TRUE(accounts().find_account_by_key_hash(hash_of(2))->admin);
}

TEST_P(AccountStoreContract, UnknownKeyHashIsNotFound) {
  ASSERT_TRUE(accounts().create_account(false, hash_of(1), kT0));
  auto result = accounts().find_account_by_key_hash(hash_of(2));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::not_found);
  // Hashes compare exactly: a different case is a different key.
  std::string upper = hash_of(1);
  upper[0] = 'A';
  EXPECT_FALSE(accounts().find_account_by_key_hash(upper));
}

TEST_P(AccountStoreContract, DuplicateKeyHashConflicts) {
  ASSERT_TRUE(accounts().create_account(false, hash_of(1), kT0));
  auto again = accounts().create_account(true, hash_of(1), kT0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
  // The failed attempt left nothing behind: no admin account without a key.
  EXPECT_FALSE(*accounts().has_admin());
  EXPECT_FALSE(accounts().find_account_by_key_hash(hash_of(1))->admin);
}

TEST_P(AccountStoreContract, HasAdminTurnsTrueWithTheFirstAdmin) {
  auto empty = accounts().has_admin();
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);
  ASSERT_TRUE(accounts().create_account(false, hash_of(1), kT0));
  EXPECT_FALSE(*accounts().has_admin());
  ASSERT_TRUE(accounts().create_account(true, hash_of(2), kT0));
  EXPECT_TRUE(*accounts().has_admin());
}

TEST_P(AccountStoreContract, LinksCanBelongToAnAccount) {
  auto account = accounts().create_account(false, hash_of(1), kT0);
  ASSERT_TRUE(account);
  auto link = links().create_link(NewLink{.slug = "mine",
                                          .url = "https://example.com/",
                                          .title = "",
                                          .account_id = account->id,
                                          .stats_token = "t",
                                          .created_at = kT0,
                                          .expires_at = std::nullopt});
  ASSERT_TRUE(link) << link.error().detail;
  EXPECT_EQ(links().find_link("mine")->account_id, account->id);
}

TEST_P(AccountStoreContract, ConcurrentCreatesGetDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::int64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto account = accounts().create_account(false, hash_of(t * 1000 + i), kT0);
        if (account) ids[t].push_back(account->id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::int64_t> all;
  for (const auto& some : ids) all.insert(all.end(), some.begin(), some.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(accounts().find_account_by_key_hash(hash_of(t * 1000 + kPerThread - 1)));
  }
}

}  // namespace
}  // namespace shortener::contract
