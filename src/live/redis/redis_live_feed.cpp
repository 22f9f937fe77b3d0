#include "live/redis/redis_live_feed.h"

#include "redis/byte_codec.h"

namespace shortener {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kBot = 1;
constexpr std::uint8_t kUnique = 2;
// 5 strings or integers, 11 strings and the flags, each at least one byte.
constexpr std::size_t kMinClickBytes = 17;

void write_click(ByteWriter& out, const EnrichedClick& c) {
  out.str(c.id);
  out.i64(c.link_id);
  out.i64(c.account_id);
  out.str(c.slug);
  out.i64(c.at);
  for (const std::string* s :
       {&c.country, &c.region, &c.city, &c.referrer, &c.device, &c.browser, &c.browser_version,
        &c.os, &c.bot_reason, &c.utm_source, &c.destination})
    out.str(*s);
  out.u8((c.bot ? kBot : 0) | (c.unique ? kUnique : 0));
}

EnrichedClick read_click(ByteReader& in) {
  EnrichedClick c;
  c.id = in.str();
  c.link_id = in.i64();
  c.account_id = in.i64();
  c.slug = in.str();
  c.at = in.i64();
  for (std::string* s : {&c.country, &c.region, &c.city, &c.referrer, &c.device, &c.browser,
                         &c.browser_version, &c.os, &c.bot_reason, &c.utm_source, &c.destination})
    *s = in.str();
  std::uint8_t flags = in.u8();
  c.bot = (flags & kBot) != 0;
  c.unique = (flags & kUnique) != 0;
  return c;
}

}  // namespace

std::string encode_live_clicks(const std::vector<EnrichedClick>& clicks) {
  return encode_list(kVersion, clicks, write_click);
}

std::optional<std::vector<EnrichedClick>> decode_live_clicks(std::string_view payload) {
  return decode_list<EnrichedClick>(payload, kVersion, kMinClickBytes, read_click);
}

RedisLiveFeed::RedisLiveFeed(RedisClient& client, RedisConfig subscriber_config,
                             MemoryLiveFeed& local, RedisLiveFeedOptions options)
    : client_(client),
      local_(local),
      options_(std::move(options)),
      subscriber_(
          std::move(subscriber_config), {options_.channel},
          [this](std::string_view, std::string_view payload) { on_message(payload); }, {},
          options_.ping_interval) {}

RedisLiveFeed::~RedisLiveFeed() {
  stop();
}

void RedisLiveFeed::start() {
  subscriber_.start();
}

void RedisLiveFeed::stop() {
  subscriber_.stop();
}

void RedisLiveFeed::publish(const std::vector<EnrichedClick>& clicks) {
  if (clicks.empty()) return;
  std::string payload = encode_live_clicks(clicks);
  if (client_.command({"PUBLISH", options_.channel, payload})) {
    published_.fetch_add(clicks.size(), std::memory_order_relaxed);
    return;
  }
  publish_failures_.fetch_add(1, std::memory_order_relaxed);
  local_.publish(clicks);
}

void RedisLiveFeed::on_message(std::string_view payload) {
  // Every replica receives every stored click; one with no dashboard (and none that could
  // resume) leaves the message undecoded.
  if (!local_.listened()) {
    ignored_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto clicks = decode_live_clicks(payload);
  if (!clicks) {
    undecodable_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  received_.fetch_add(clicks->size(), std::memory_order_relaxed);
  local_.publish(*clicks);
}

RedisLiveFeedCounters RedisLiveFeed::counters() const {
  return {published_.load(), publish_failures_.load(), received_.load(), undecodable_.load(),
          ignored_.load()};
}

}  // namespace shortener
