#include "cache/redis/redis_link_cache.h"

#include "redis/byte_codec.h"

namespace shortener {

namespace {

constexpr std::uint8_t kNegative = 0;
constexpr std::uint8_t kLinkV1 = 1;
constexpr std::uint8_t kDeleted = 1;
constexpr std::uint8_t kHasExpiry = 2;

// KEYS: link key, version key. ARGV: expected version (mod 2^16), value, TTL seconds.
const RedisScript& put_script() {
  static const RedisScript script(R"lua(
local version = tonumber(redis.call('GET', KEYS[2]) or '0') % 65536
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
)lua");
  return script;
}

}  // namespace

std::string encode_cached_link(const CachedLink& link) {
  ByteWriter out;
  out.u8(kLinkV1);
  out.u8((link.deleted ? kDeleted : 0) | (link.expires_at ? kHasExpiry : 0));
  out.i64(link.id);
  out.i64(link.account_id);
  if (link.expires_at) out.i64(*link.expires_at);
  out.str(link.url);
  return std::move(out.bytes());
}

std::string encode_negative_link() {
  return std::string(1, static_cast<char>(kNegative));
}

std::optional<CachedLinkPtr> decode_cached_link(std::string_view slug, std::string_view value) {
  ByteReader in(value);
  std::uint8_t kind = in.u8();
  if (in.ok() && kind == kNegative && in.at_end()) return CachedLinkPtr();
  if (!in.ok() || kind != kLinkV1) return std::nullopt;
  auto link = std::make_shared<CachedLink>();
  std::uint8_t flags = in.u8();
  link->slug = std::string(slug);
  link->deleted = (flags & kDeleted) != 0;
  link->id = in.i64();
  link->account_id = in.i64();
  if (flags & kHasExpiry) link->expires_at = in.i64();
  link->url = in.str();
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return CachedLinkPtr(std::move(link));
}

RedisLinkCache::RedisLinkCache(RedisClient& client, RedisLinkCacheOptions options)
    : client_(client),
      options_(std::move(options)),
      ttl_text_(std::to_string(options_.ttl.count())),
      negative_ttl_text_(std::to_string(options_.negative_ttl.count())),
      version_ttl_text_(std::to_string(options_.version_ttl.count())) {}

Result<RedisLookup> RedisLinkCache::fetch(std::string_view slug) {
  auto lookups = fetch_many(std::span(&slug, 1));
  if (!lookups) return std::unexpected(lookups.error());
  return std::move(lookups->front());
}

Result<std::vector<RedisLookup>> RedisLinkCache::fetch_many(
    std::span<const std::string_view> slugs) {
  // One MGET of every slug's value and version: one command, one round trip.
  std::vector<std::string> keys;
  keys.reserve(2 * slugs.size());
  for (std::string_view slug : slugs) {
    keys.push_back(options_.key_prefix + std::string(slug));
    keys.push_back(options_.version_prefix + std::string(slug));
  }
  RedisArgs args;
  args.reserve(keys.size() + 1);
  args.push_back("MGET");
  args.insert(args.end(), keys.begin(), keys.end());
  auto reply = client_.command(args);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->is_array() || reply->elements.size() != keys.size())
    return fail(Errc::internal, "redis: unexpected MGET reply");
  std::vector<RedisLookup> lookups(slugs.size());
  for (std::size_t i = 0; i < slugs.size(); ++i)
    lookups[i] = lookup_from(slugs[i], reply->elements[2 * i], reply->elements[2 * i + 1]);
  return lookups;
}

RedisLookup RedisLinkCache::lookup_from(std::string_view slug, const RedisValue& value,
                                        const RedisValue& version) {
  RedisLookup lookup;
  lookup.version = static_cast<std::uint16_t>(as_integer(version).value_or(0));
  if (value.is_nil()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return lookup;
  }
  auto link = decode_cached_link(slug, value.str);
  if (!link) {
    count_error();  // a foreign or older format: treat as absent, the put overwrites it
    return lookup;
  }
  lookup.outcome = *link ? Outcome::hit : Outcome::negative;
  (*link ? hits_ : negative_hits_).fetch_add(1, std::memory_order_relaxed);
  lookup.link = std::move(*link);
  return lookup;
}

Result<void> RedisLinkCache::store(const CachedLink& link, std::uint16_t version) {
  return write(link.slug, encode_cached_link(link), options_.ttl, version);
}

Result<void> RedisLinkCache::store_negative(std::string_view slug, std::uint16_t version) {
  return write(slug, encode_negative_link(), options_.negative_ttl, version);
}

Result<void> RedisLinkCache::write(std::string_view slug, const std::string& value,
                                   std::chrono::seconds ttl, std::uint16_t version) {
  std::string key = options_.key_prefix + std::string(slug);
  std::string version_key = options_.version_prefix + std::string(slug);
  std::string expected = std::to_string(version);
  const std::string& ttl_text = ttl == options_.ttl ? ttl_text_ : negative_ttl_text_;
  auto written = client_.eval(put_script(), {key, version_key}, {expected, value, ttl_text});
  if (!written) return std::unexpected(written.error());
  if (as_integer(*written).value_or(0) == 0) stale_puts_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

Result<void> RedisLinkCache::remove(std::string_view slug) {
  std::string key = options_.key_prefix + std::string(slug);
  std::string version_key = options_.version_prefix + std::string(slug);
  const RedisArgs commands[] = {
      {"MULTI"},
      {"DEL", key},
      {"INCR", version_key},
      {"EXPIRE", version_key, version_ttl_text_},
      {"PUBLISH", options_.channel, slug},
      {"EXEC"},
  };
  auto replies = client_.pipeline(commands);
  if (!replies) return std::unexpected(replies.error());
  const RedisValue& exec = replies->back();
  if (!exec.is_array())
    return fail(Errc::internal, "redis: invalidation transaction failed: " + exec.str);
  return {};
}

LinkCache::Lookup RedisLinkCache::get(std::string_view slug) {
  auto found = fetch(slug);
  if (!found) {
    count_error();
    return {Outcome::miss, nullptr, 0};
  }
  return {found->outcome, std::move(found->link), found->version};
}

void RedisLinkCache::put(CachedLinkPtr link, std::uint64_t ticket) {
  if (!store(*link, static_cast<std::uint16_t>(ticket))) count_error();
}

void RedisLinkCache::put_negative(std::string_view slug, std::uint64_t ticket) {
  if (!store_negative(slug, static_cast<std::uint16_t>(ticket))) count_error();
}

void RedisLinkCache::invalidate(std::string_view slug) {
  if (!remove(slug)) count_error();
}

RedisLinkCacheCounters RedisLinkCache::counters() const {
  return {hits_.load(), negative_hits_.load(), misses_.load(), errors_.load(), stale_puts_.load()};
}

}  // namespace shortener
