// The LinkStore contract: what every adapter must do, as ports.h promises it.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "store_factory.h"

namespace shortener::contract {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr TimeUs kHour = 3'600'000'000;

NewLink new_link(const std::string& slug, std::int64_t account_id = 0) {
  return NewLink{.slug = slug,
                 .url = "https://example.com/" + slug,
                 .title = "title " + slug,
                 .account_id = account_id,
                 .stats_token = "token-" + slug,
                 .created_at = kT0,
                 .expires_at = std::nullopt};
}

void expect_same(const Link& a, const Link& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.slug, b.slug);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.account_id, b.account_id);
  EXPECT_EQ(a.stats_token, b.stats_token);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.deleted_at, b.deleted_at);
}

std::int64_t new_account(AccountStore& accounts) {
  static std::atomic<int> counter{0};
  auto account = accounts.create_account(false, "hash-" + std::to_string(++counter), kT0);
  EXPECT_TRUE(account.has_value()) << (account ? "" : account.error().detail);
  return account ? account->id : 0;
}

Link create(LinkStore& links, const NewLink& link) {
  auto created = links.create_link(link);
  EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().detail);
  return created.value_or(Link{});
}

// Named patch builders: designated initialisers that skip members trip -Wextra on g++ 12.
LinkPatch url_patch(std::string url) {
  LinkPatch patch;
  patch.url = std::move(url);
  return patch;
}

LinkPatch title_patch(std::string title) {
  LinkPatch patch;
  patch.title = std::move(title);
  return patch;
}

LinkPatch expiry_patch(std::optional<TimeUs> expires_at) {
  LinkPatch patch;
  patch.expires_at.emplace(expires_at);  // engaged even when clearing
  return patch;
}

std::vector<std::string> slugs_of(const LinkPage& page) {
  std::vector<std::string> slugs;
  for (const Link& link : page.links) slugs.push_back(link.slug);
  return slugs;
}

TEST_P(LinkStoreContract, CreateThenFindRoundTripsEveryField) {
  auto account = accounts().create_account(false, "hash-owner", kT0);
  ASSERT_TRUE(account);
  NewLink input{.slug = "round-Trip_1",
                .url = "https://example.com/a?b=c&d=%20#frag",
                .title = "Café — 東京 🚀",
                .account_id = account->id,
                .stats_token = "st_0123456789abcdefghij",
                .created_at = kT0 + 123'456,
                .expires_at = kT0 + 48 * kHour};
  auto created = links().create_link(input);
  ASSERT_TRUE(created) << created.error().detail;
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->slug, input.slug);
  EXPECT_EQ(created->url, input.url);
  EXPECT_EQ(created->title, input.title);
  EXPECT_EQ(created->account_id, account->id);
  EXPECT_EQ(created->stats_token, input.stats_token);
  EXPECT_EQ(created->created_at, input.created_at);
  EXPECT_EQ(created->expires_at, input.expires_at);
  EXPECT_EQ(created->deleted_at, std::nullopt);

  auto found = links().find_link("round-Trip_1");
  ASSERT_TRUE(found) << found.error().detail;
  expect_same(*found, *created);
}

TEST_P(LinkStoreContract, AnonymousLinkWithoutOptionalFieldsRoundTrips) {
  NewLink input = new_link("anon");
  input.title = "";
  auto created = links().create_link(input);
  ASSERT_TRUE(created);
  auto found = links().find_link("anon");
  ASSERT_TRUE(found);
  expect_same(*found, *created);
  EXPECT_EQ(found->account_id, 0);
  EXPECT_EQ(found->title, "");
  EXPECT_EQ(found->expires_at, std::nullopt);
}

TEST_P(LinkStoreContract, IdsIncreaseWithCreation) {
  auto first = links().create_link(new_link("first"));
  auto second = links().create_link(new_link("second"));
  ASSERT_TRUE(first && second);
  EXPECT_GT(second->id, first->id);
}

TEST_P(LinkStoreContract, DuplicateSlugConflicts) {
  ASSERT_TRUE(links().create_link(new_link("taken")));
  NewLink again = new_link("taken");
  again.url = "https://other.example/";
  auto result = links().create_link(again);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::conflict);
  EXPECT_EQ(links().find_link("taken")->url, "https://example.com/taken");
}

TEST_P(LinkStoreContract, DeletedSlugIsNeverReused) {
  ASSERT_TRUE(links().create_link(new_link("gone")));
  ASSERT_TRUE(links().delete_link("gone", kT0 + kHour));
  auto result = links().create_link(new_link("gone"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::conflict);
}

TEST_P(LinkStoreContract, SlugsAreCaseSensitive) {
  ASSERT_TRUE(links().create_link(new_link("abc")));
  ASSERT_TRUE(links().create_link(new_link("ABC")));
  EXPECT_EQ(links().find_link("abc")->url, "https://example.com/abc");
  EXPECT_EQ(links().find_link("ABC")->url, "https://example.com/ABC");
  auto mixed = links().find_link("Abc");
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, Errc::not_found);
}

TEST_P(LinkStoreContract, FindUnknownIsNotFound) {
  auto result = links().find_link("nope");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::not_found);
}

TEST_P(LinkStoreContract, FindReturnsExpiredLinks) {
  NewLink input = new_link("old");
  input.expires_at = kT0 - kHour;
  ASSERT_TRUE(links().create_link(input));
  auto found = links().find_link("old");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->expires_at, kT0 - kHour);
}

TEST_P(LinkStoreContract, ListPaginatesNewestFirstWithinOneAccount) {
  const auto a = new_account(accounts());
  const auto b = new_account(accounts());
  std::vector<std::string> expected;  // A's slugs, newest first
  for (int i = 0; i < 25; ++i) {
    expected.insert(expected.begin(), "a" + std::to_string(i));
    create(links(), new_link(expected.front(), a));
    if (i % 8 == 3) create(links(), new_link("b" + std::to_string(i), b));  // interleaved: 3 links
  }
  std::vector<std::string> seen;
  std::optional<std::int64_t> cursor;
  std::vector<std::size_t> sizes;
  do {
    auto page = links().list_links(a, 10, cursor);
    ASSERT_TRUE(page) << page.error().detail;
    sizes.push_back(page->links.size());
    for (const Link& link : page->links) {
      EXPECT_EQ(link.account_id, a);
      seen.push_back(link.slug);
    }
    cursor = page->next_cursor;
  } while (cursor && sizes.size() < 10);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 5}));
  EXPECT_EQ(seen, expected);

  auto b_page = links().list_links(b, 10, std::nullopt);
  ASSERT_TRUE(b_page);
  EXPECT_EQ(slugs_of(*b_page), (std::vector<std::string>{"b19", "b11", "b3"}));
  EXPECT_EQ(b_page->next_cursor, std::nullopt);
}

TEST_P(LinkStoreContract, FullLastPageHasNoCursor) {
  const auto a = new_account(accounts());
  for (int i = 0; i < 20; ++i) create(links(), new_link("s" + std::to_string(i), a));
  auto first = links().list_links(a, 10, std::nullopt);
  ASSERT_TRUE(first && first->next_cursor);
  auto second = links().list_links(a, 10, first->next_cursor);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->links.size(), 10u);
  EXPECT_EQ(second->next_cursor, std::nullopt);
  EXPECT_EQ(second->links.back().slug, "s0");
}

TEST_P(LinkStoreContract, ListOfAccountWithoutLinksIsEmpty) {
  const auto a = new_account(accounts());
  create(links(), new_link("someone-elses"));
  auto page = links().list_links(a, 10, std::nullopt);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->links.empty());
  EXPECT_EQ(page->next_cursor, std::nullopt);
}

TEST_P(LinkStoreContract, AnonymousLinksListUnderAccountZero) {
  const auto a = new_account(accounts());
  create(links(), new_link("anon1"));
  create(links(), new_link("owned", a));
  create(links(), new_link("anon2"));
  auto page = links().list_links(0, 10, std::nullopt);
  ASSERT_TRUE(page);
  EXPECT_EQ(slugs_of(*page), (std::vector<std::string>{"anon2", "anon1"}));
}

TEST_P(LinkStoreContract, ListExcludesDeletedLinks) {
  const auto a = new_account(accounts());
  for (int i = 0; i < 5; ++i) create(links(), new_link("d" + std::to_string(i), a));
  ASSERT_TRUE(links().delete_link("d1", kT0));
  ASSERT_TRUE(links().delete_link("d4", kT0));
  auto page = links().list_links(a, 10, std::nullopt);
  ASSERT_TRUE(page);
  EXPECT_EQ(slugs_of(*page), (std::vector<std::string>{"d3", "d2", "d0"}));
}

TEST_P(LinkStoreContract, UpdateChangesOnlyTheEngagedFields) {
  NewLink input = new_link("edit");
  input.expires_at = kT0 + kHour;
  const Link original = create(links(), input);

  auto url = links().update_link("edit", url_patch("https://new.example/"));
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->url, "https://new.example/");
  EXPECT_EQ(url->title, original.title);
  EXPECT_EQ(url->expires_at, original.expires_at);

  auto title = links().update_link("edit", title_patch("Ünïcode ✓"));
  ASSERT_TRUE(title);
  EXPECT_EQ(title->title, "Ünïcode ✓");
  EXPECT_EQ(title->url, "https://new.example/");

  auto expiry = links().update_link("edit", expiry_patch(kT0 + 2 * kHour));
  ASSERT_TRUE(expiry);
  EXPECT_EQ(expiry->expires_at, kT0 + 2 * kHour);

  auto found = links().find_link("edit");
  ASSERT_TRUE(found);
  expect_same(*found, *expiry);
  EXPECT_EQ(found->id, original.id);
  EXPECT_EQ(found->created_at, original.created_at);
  EXPECT_EQ(found->stats_token, original.stats_token);
}

TEST_P(LinkStoreContract, UpdateCanClearTheExpiry) {
  NewLink input = new_link("expiring");
  input.expires_at = kT0 + kHour;
  create(links(), input);
  auto updated = links().update_link("expiring", expiry_patch(std::nullopt));
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->expires_at, std::nullopt);
  EXPECT_EQ(links().find_link("expiring")->expires_at, std::nullopt);
}

TEST_P(LinkStoreContract, EmptyPatchChangesNothing) {
  const Link original = create(links(), new_link("same"));
  auto updated = links().update_link("same", LinkPatch{});
  ASSERT_TRUE(updated);
  expect_same(*updated, original);
}

TEST_P(LinkStoreContract, UpdateUnknownOrDeletedIsNotFound) {
  auto unknown = links().update_link("nope", url_patch("https://x.example/"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);

  create(links(), new_link("dead"));
  ASSERT_TRUE(links().delete_link("dead", kT0));
  auto deleted = links().update_link("dead", url_patch("https://x.example/"));
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, Errc::not_found);
  EXPECT_EQ(links().find_link("dead")->url, "https://example.com/dead");
}

TEST_P(LinkStoreContract, DeleteThenFindShowsDeletedAt) {
  const Link original = create(links(), new_link("bye"));
  ASSERT_TRUE(links().delete_link("bye", kT0 + 5 * kHour));
  auto found = links().find_link("bye");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->deleted_at, kT0 + 5 * kHour);
  EXPECT_EQ(found->id, original.id);
  EXPECT_EQ(found->url, original.url);
}

TEST_P(LinkStoreContract, DeleteUnknownOrTwiceIsNotFound) {
  auto unknown = links().delete_link("nope", kT0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);

  create(links(), new_link("once"));
  ASSERT_TRUE(links().delete_link("once", kT0));
  auto twice = links().delete_link("once", kT0 + kHour);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::not_found);
  EXPECT_EQ(links().find_link("once")->deleted_at, kT0);  // the first deletion time stays
}

TEST_P(LinkStoreContract, PingAnswers) {
  EXPECT_TRUE(links().ping());
}

TEST_P(LinkStoreContract, ConcurrentCreatesAllSucceedWhileReadersRead) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 200;
  std::atomic<int> failures{0};
  std::atomic<int> read_failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        auto slug = "w" + std::to_string(w) + "-" + std::to_string(i);
        if (!links().create_link(new_link(slug))) ++failures;
        if (!links().find_link(slug)) ++read_failures;  // read-your-writes from any connection
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (writing) {
        auto result = links().find_link("w0-0");
        if (!result && result.error().code != Errc::not_found) ++read_failures;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writing = false;
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(read_failures, 0);
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kPerWriter; ++i) {
      auto slug = "w" + std::to_string(w) + "-" + std::to_string(i);
      ASSERT_TRUE(links().find_link(slug)) << slug;
    }
  }
}

TEST_P(LinkStoreContract, RacingCreatesOfOneSlugHaveExactlyOneWinner) {
  for (int round = 0; round < 20; ++round) {
    const std::string slug = "race" + std::to_string(round);
    std::latch start(2);
    Result<Link> results[2] = {fail(Errc::internal, "not run"), fail(Errc::internal, "not run")};
    std::vector<std::thread> racers;
    for (int t = 0; t < 2; ++t) {
      racers.emplace_back([&, t] {
        NewLink input = new_link(slug);
        input.url += "/" + std::to_string(t);
        start.arrive_and_wait();
        results[t] = links().create_link(input);
      });
    }
    for (auto& racer : racers) racer.join();
    const int wins = (results[0] ? 1 : 0) + (results[1] ? 1 : 0);
    ASSERT_EQ(wins, 1) << slug;
    const Result<Link>& winner = results[0] ? results[0] : results[1];
    const Result<Link>& loser = results[0] ? results[1] : results[0];
    EXPECT_EQ(loser.error().code, Errc::conflict);
    EXPECT_EQ(links().find_link(slug)->url, winner->url);
  }
}

}  // namespace
}  // namespace shortener::contract
