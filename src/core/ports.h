// Ports: the interfaces the domain needs from the outside world. Adapters (storage/sqlite,
// cache/memory, later storage/postgres and cache/redis) implement them; http and app use them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/link.h"

namespace shortener {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeUs now_us() const = 0;
};

// Wall clock (system_clock), the production Clock.
class SystemClock final : public Clock {
 public:
  TimeUs now_us() const override;
};

struct LinkPage {
  std::vector<Link> links;
  std::optional<std::int64_t> next_cursor;  // pass back as `cursor` to get the next page
};

// Durable link storage. Implementations are thread-safe.
class LinkStore {
 public:
  virtual ~LinkStore() = default;
  // Errc::conflict when the slug is taken (also by a deleted link: slugs are never reused).
  virtual Result<Link> create_link(const NewLink& link) = 0;
  // Finds deleted and expired links too; the caller decides between 302 and 410.
  virtual Result<Link> find_link(std::string_view slug) = 0;
  // Newest first; cursor is the id of the last link of the previous page (exclusive).
  virtual Result<LinkPage> list_links(std::int64_t account_id, int limit,
                                      std::optional<std::int64_t> cursor) = 0;
  virtual Result<Link> update_link(std::string_view slug, const LinkPatch& patch) = 0;
  virtual Result<void> delete_link(std::string_view slug, TimeUs at) = 0;
  // Readiness: the backend answers.
  virtual Result<void> ping() = 0;
};

// Accounts and their API keys (stored as SHA-256 hex of the key, never the key).
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  virtual Result<Account> create_account(bool admin, std::string_view key_hash, TimeUs at) = 0;
  virtual Result<Account> find_account_by_key_hash(std::string_view key_hash) = 0;
  virtual Result<bool> has_admin() = 0;
};

// What a redirect needs of a link; immutable once built, shared by the cache and in-flight
// responses so a cache hit copies a pointer, not a URL.
struct CachedLink {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string slug;
  std::string url;
  std::optional<TimeUs> expires_at;
  bool deleted = false;
};
using CachedLinkPtr = std::shared_ptr<const CachedLink>;

// Slug -> link cache (L1 in-process; Redis later). A negative entry records "no such slug".
class LinkCache {
 public:
  enum class Outcome { miss, hit, negative };
  struct Lookup {
    Outcome outcome = Outcome::miss;
    CachedLinkPtr link;  // set on hit
    // On a miss: pass back to put()/put_negative(). An invalidation that happened between the
    // miss and the put makes the put a no-op, so a slow store read cannot resurrect a value
    // that a PATCH or DELETE already replaced.
    std::uint64_t ticket = 0;
  };
  virtual ~LinkCache() = default;
  virtual Lookup get(std::string_view slug) = 0;
  // get() without any I/O: what the process itself holds (the L1). The redirect's fast path on
  // an I/O thread uses it; a miss goes to the blocking pool, which may ask Redis.
  virtual Lookup peek(std::string_view slug) { return get(slug); }
  // get() for a second look by a lookup already counted (e.g. a prefetch after the event loop's
  // peek missed): the same answer, left out of hit/miss statistics.
  virtual Lookup recheck(std::string_view slug) { return get(slug); }
  // Completion of prefetch(): a hit or negative lookup, or a miss (no ticket) when the
  // caller must take the blocking way (get(), then the store).
  using PrefetchDone = std::move_only_function<void(Lookup lookup)>;
  // A non-blocking get() for an event loop: looks the slug up where get() would after peek()
  // missed (e.g. Redis, by another thread, batched with other misses) and keeps what it finds
  // for later peeks. `done` runs exactly once, on any thread, possibly before prefetch
  // returns; it should only hand the lookup over. The default has nothing to look up without
  // blocking: a miss at once.
  virtual void prefetch(std::string_view slug, PrefetchDone done) {
    static_cast<void>(slug);
    done(Lookup{});
  }
  virtual void put(CachedLinkPtr link, std::uint64_t ticket) = 0;
  virtual void put_negative(std::string_view slug, std::uint64_t ticket) = 0;
  virtual void invalidate(std::string_view slug) = 0;
};

}  // namespace shortener
