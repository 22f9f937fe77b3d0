// The link use cases: create, read, list, change, delete, resolve for a redirect, and who is
// calling. HTTP routes parse input, call exactly one of these, and map the Result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/link.h"
#include "core/ports.h"
#include "core/rate_limiter.h"
#include "core/url_policy.h"

namespace shortener {

// Who is calling: an account (authenticated by API key) or nobody.
struct Caller {
  std::optional<Account> account;
  std::string client_ip;  // for per-IP limits on anonymous calls
  bool anonymous() const { return !account.has_value(); }
  bool admin() const { return account && account->admin; }
};

struct CreateLink {
  std::string url;
  std::optional<std::string> slug;  // custom slug; random when absent
  std::optional<TimeUs> expires_at;
  std::string title;
};

struct LinkServiceOptions {
  int slug_length = 7;
  bool allow_anonymous = true;
  UrlPolicy url_policy;
  std::size_t max_title_length = 512;  // bytes of UTF-8
};

// How a redirect resolves a slug.
struct Resolution {
  enum class Kind { found, not_found, gone, unavailable };
  Kind kind = Kind::not_found;
  CachedLinkPtr link;  // set when found (and when gone, for the link id)
};

class LinkService {
 public:
  LinkService(LinkStore& links, AccountStore& accounts, LinkCache& cache, RateLimiter& limiter,
              const Clock& clock, LinkServiceOptions options);

  // Bearer key -> caller. No key: anonymous. Unknown key: Errc::unauthorized.
  Result<Caller> authenticate(std::optional<std::string_view> bearer_key, std::string client_ip);

  Result<Link> create(const CreateLink& request, const Caller& caller);
  // Owner or admin only; someone else's link is Errc::not_found (existence is not revealed).
  Result<Link> get(std::string_view slug, const Caller& caller);
  Result<LinkPage> list(const Caller& caller, int limit, std::optional<std::int64_t> cursor);
  Result<Link> update(std::string_view slug, const LinkPatch& patch, const Caller& caller);
  Result<void> remove(std::string_view slug, const Caller& caller);
  // Analytics access: the owner's key, an admin key, or the link's own stats token.
  Result<Link> stats_access(std::string_view slug, std::optional<std::string_view> bearer,
                            std::string client_ip);
  // Every live link of the caller's account (for account-wide analytics).
  Result<std::vector<Link>> all_links(const Caller& caller);

  // The redirect path: L1 cache first (no store I/O on a hit), then the store, populating
  // the cache (negative entries for unknown slugs).
  Resolution resolve(std::string_view slug);
  // The non-blocking part of resolve(): answers from the cache alone, nullopt on a miss.
  std::optional<Resolution> resolve_cached(std::string_view slug);
  // After resolve_cached() missed: resolve() without blocking, as far as the cache can (e.g.
  // from Redis, see LinkCache::prefetch). `done` runs exactly once, on any thread, with the
  // resolution, or nullopt when only resolve() can tell.
  void prefetch(std::string_view slug,
                std::move_only_function<void(std::optional<Resolution>)> done);

  // Creates an account with a fresh key; returns the key (shown once, stored hashed).
  Result<std::string> create_account_key(bool admin);
  // Start-up: make `key` the admin key if given, or create one when no admin exists.
  // Returns the key to print when one was generated.
  Result<std::optional<std::string>> ensure_admin(std::optional<std::string> key);

  const LinkServiceOptions& options() const { return options_; }

 private:
  Result<Link> owned_link(std::string_view slug, const Caller& caller);
  Result<void> check_expiry(std::optional<TimeUs> expires_at) const;
  static CachedLinkPtr to_cached(const Link& link);
  void warm_cache(const Link& link);
  // A cache's answer as a resolution; nullopt on a miss (the store must tell).
  std::optional<Resolution> from_cache(LinkCache::Lookup& cached) const;
  Resolution classify(CachedLinkPtr link) const;

  LinkStore& links_;
  AccountStore& accounts_;
  LinkCache& cache_;
  RateLimiter& limiter_;
  const Clock& clock_;
  LinkServiceOptions options_;
};

}  // namespace shortener
