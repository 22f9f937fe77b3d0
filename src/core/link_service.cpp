#include "core/link_service.h"

#include <chrono>
#include <utility>

#include "core/api_key.h"
#include "core/slug.h"

namespace shortener {

namespace {

// Random slugs collide with probability ~n/64^7; a handful of retries makes a failure
// astronomically unlikely while bounding the work when the keyspace is nearly full.
constexpr int kRandomSlugAttempts = 8;
constexpr int kMaxPageSize = 1000;

}  // namespace

TimeUs SystemClock::now_us() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

LinkService::LinkService(LinkStore& links, AccountStore& accounts, LinkCache& cache,
                         RateLimiter& limiter, const Clock& clock, LinkServiceOptions options)
    : links_(links),
      accounts_(accounts),
      cache_(cache),
      limiter_(limiter),
      clock_(clock),
      options_(std::move(options)) {}

Result<Caller> LinkService::authenticate(std::optional<std::string_view> bearer_key,
                                         std::string client_ip) {
  Caller caller{.account = std::nullopt, .client_ip = std::move(client_ip)};
  if (!bearer_key) return caller;
  auto account = accounts_.find_account_by_key_hash(sha256_hex(*bearer_key));
  if (!account) {
    if (account.error().code == Errc::not_found) return fail(Errc::unauthorized, "unknown API key");
    return std::unexpected(account.error());
  }
  caller.account = *account;
  return caller;
}

Result<void> LinkService::check_expiry(std::optional<TimeUs> expires_at) const {
  if (expires_at && *expires_at <= clock_.now_us())
    return fail(Errc::invalid_input, "expires_at must be in the future");
  return {};
}

Result<Link> LinkService::create(const CreateLink& request, const Caller& caller) {
  if (caller.anonymous()) {
    if (!options_.allow_anonymous)
      return fail(Errc::unauthorized, "anonymous link creation is disabled; use an API key");
    if (int wait = limiter_.acquire(caller.client_ip); wait > 0)
      return std::unexpected(
          Error{Errc::rate_limited,
                "too many links created from this address; retry in " + std::to_string(wait) + " s",
                wait});
  }
  auto url = normalize_url(request.url, options_.url_policy);
  if (!url) return std::unexpected(url.error());
  if (request.title.size() > options_.max_title_length)
    return fail(Errc::invalid_input,
                "title must be at most " + std::to_string(options_.max_title_length) + " bytes");
  if (auto ok = check_expiry(request.expires_at); !ok) return std::unexpected(ok.error());
  if (request.slug) {
    if (auto ok = validate_custom_slug(*request.slug); !ok) return std::unexpected(ok.error());
  }

  NewLink link{.slug = request.slug.value_or(""),
               .url = std::move(*url),
               .title = request.title,
               .account_id = caller.account ? caller.account->id : 0,
               .stats_token = generate_stats_token(),
               .created_at = clock_.now_us(),
               .expires_at = request.expires_at};
  if (request.slug) {
    auto created = links_.create_link(link);
    if (!created && created.error().code == Errc::conflict)
      return fail(Errc::conflict, "slug '" + link.slug + "' is already taken");
    if (created) warm_cache(*created);
    return created;
  }
  for (int attempt = 0; attempt < kRandomSlugAttempts; ++attempt) {
    link.slug = random_slug(options_.slug_length);
    auto created = links_.create_link(link);
    if (created || created.error().code != Errc::conflict) {
      if (created) warm_cache(*created);
      return created;
    }
  }
  return fail(Errc::unavailable, "could not find a free random slug; retry");
}

// A new link replaces any cached negative entry and is cached right away (with Redis: the
// seed's 24 h key is written at creation), so its first redirect is a cache hit.
void LinkService::warm_cache(const Link& link) {
  cache_.invalidate(link.slug);
  auto lookup = cache_.get(link.slug);
  if (lookup.outcome == LinkCache::Outcome::miss) cache_.put(to_cached(link), lookup.ticket);
}

Result<Link> LinkService::owned_link(std::string_view slug, const Caller& caller) {
  if (caller.anonymous()) return fail(Errc::unauthorized, "an API key is required");
  auto link = links_.find_link(slug);
  if (!link && link.error().code != Errc::not_found) return link;
  // Someone else's link answers exactly like a missing one: existence is not revealed.
  if (!link || link->deleted_at || (!caller.admin() && link->account_id != caller.account->id))
    return fail(Errc::not_found, "no link with slug '" + std::string(slug) + "'");
  return link;
}

Result<Link> LinkService::get(std::string_view slug, const Caller& caller) {
  return owned_link(slug, caller);
}

Result<LinkPage> LinkService::list(const Caller& caller, int limit,
                                   std::optional<std::int64_t> cursor) {
  if (caller.anonymous()) return fail(Errc::unauthorized, "an API key is required");
  if (limit < 1 || limit > kMaxPageSize)
    return fail(Errc::invalid_input, "limit must be between 1 and " + std::to_string(kMaxPageSize));
  return links_.list_links(caller.account->id, limit, cursor);
}

Result<Link> LinkService::update(std::string_view slug, const LinkPatch& patch,
                                 const Caller& caller) {
  auto link = owned_link(slug, caller);
  if (!link) return link;
  LinkPatch normalised = patch;
  if (patch.url) {
    auto url = normalize_url(*patch.url, options_.url_policy);
    if (!url) return std::unexpected(url.error());
    normalised.url = std::move(*url);
  }
  if (patch.title && patch.title->size() > options_.max_title_length)
    return fail(Errc::invalid_input,
                "title must be at most " + std::to_string(options_.max_title_length) + " bytes");
  if (patch.expires_at) {
    if (auto ok = check_expiry(*patch.expires_at); !ok) return std::unexpected(ok.error());
  }
  auto updated = links_.update_link(slug, normalised);
  cache_.invalidate(slug);  // the very next redirect must see the change
  return updated;
}

Result<void> LinkService::remove(std::string_view slug, const Caller& caller) {
  auto link = owned_link(slug, caller);
  if (!link) return std::unexpected(link.error());
  auto removed = links_.delete_link(slug, clock_.now_us());
  cache_.invalidate(slug);
  return removed;
}

Result<Link> LinkService::stats_access(std::string_view slug,
                                       std::optional<std::string_view> bearer,
                                       std::string client_ip) {
  if (!bearer) return fail(Errc::unauthorized, "an API key or the link's stats token is required");
  auto link = links_.find_link(slug);
  if (link && !link->deleted_at && secure_equal(*bearer, link->stats_token)) return link;
  if (!link && link.error().code != Errc::not_found) return link;
  auto caller = authenticate(bearer, std::move(client_ip));
  if (!caller) {
    if (caller.error().code == Errc::unauthorized)
      return fail(Errc::unauthorized, "unknown API key or stats token");
    return std::unexpected(caller.error());
  }
  return owned_link(slug, *caller);
}

Result<std::vector<Link>> LinkService::all_links(const Caller& caller) {
  std::vector<Link> links;
  std::optional<std::int64_t> cursor;
  do {
    auto page = list(caller, kMaxPageSize, cursor);
    if (!page) return std::unexpected(page.error());
    for (auto& link : page->links) links.push_back(std::move(link));
    cursor = page->next_cursor;
  } while (cursor);
  return links;
}

CachedLinkPtr LinkService::to_cached(const Link& link) {
  return std::make_shared<const CachedLink>(CachedLink{.id = link.id,
                                                       .account_id = link.account_id,
                                                       .slug = link.slug,
                                                       .url = link.url,
                                                       .expires_at = link.expires_at,
                                                       .deleted = link.deleted_at.has_value()});
}

Resolution LinkService::classify(CachedLinkPtr link) const {
  bool gone = link->deleted || (link->expires_at && *link->expires_at <= clock_.now_us());
  return {gone ? Resolution::Kind::gone : Resolution::Kind::found, std::move(link)};
}

std::optional<Resolution> LinkService::from_cache(LinkCache::Lookup& cached) const {
  switch (cached.outcome) {
    case LinkCache::Outcome::hit:
      return classify(std::move(cached.link));
    case LinkCache::Outcome::negative:
      return Resolution{Resolution::Kind::not_found, {}};
    case LinkCache::Outcome::miss:
      break;
  }
  return std::nullopt;
}

std::optional<Resolution> LinkService::resolve_cached(std::string_view slug) {
  auto cached = cache_.peek(slug);
  return from_cache(cached);
}

void LinkService::prefetch(std::string_view slug,
                           std::move_only_function<void(std::optional<Resolution>)> done) {
  cache_.prefetch(slug, [this, done = std::move(done)](LinkCache::Lookup lookup) mutable {
    done(from_cache(lookup));
  });
}

Resolution LinkService::resolve(std::string_view slug) {
  auto cached = cache_.get(slug);
  if (auto resolution = from_cache(cached)) return std::move(*resolution);
  auto stored = links_.find_link(slug);
  if (!stored) {
    if (stored.error().code != Errc::not_found) return {Resolution::Kind::unavailable, {}};
    cache_.put_negative(slug, cached.ticket);
    return {Resolution::Kind::not_found, {}};
  }
  CachedLinkPtr link = to_cached(*stored);
  cache_.put(link, cached.ticket);
  return classify(std::move(link));
}

Result<std::string> LinkService::create_account_key(bool admin) {
  std::string key = generate_api_key();
  auto account = accounts_.create_account(admin, sha256_hex(key), clock_.now_us());
  if (!account) return std::unexpected(account.error());
  return key;
}

Result<std::optional<std::string>> LinkService::ensure_admin(std::optional<std::string> key) {
  if (key) {
    auto known = accounts_.find_account_by_key_hash(sha256_hex(*key));
    if (known) {
      if (!known->admin)
        return fail(Errc::conflict, "the given admin key belongs to a non-admin account");
      return std::optional<std::string>{};
    }
    if (known.error().code != Errc::not_found) return std::unexpected(known.error());
    auto created = accounts_.create_account(true, sha256_hex(*key), clock_.now_us());
    if (!created) return std::unexpected(created.error());
    return std::optional<std::string>{};
  }
  auto has = accounts_.has_admin();
  if (!has) return std::unexpected(has.error());
  if (*has) return std::optional<std::string>{};
  auto generated = create_account_key(true);
  if (!generated) return std::unexpected(generated.error());
  return std::optional<std::string>{std::move(*generated)};
}

}  // namespace shortener
