#include "redis/redis_client.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace shortener {

namespace {

constexpr std::string_view kDetailPrefix = "redis: ";

// Error replies that mean "not now" rather than "wrong": a restarted server replaying its AOF
// answers LOADING, a long script BUSY, a replica READONLY.
bool transient(std::string_view message) {
  for (std::string_view code : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY"})
    if (message.starts_with(code)) return true;
  return false;
}

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

}  // namespace

RedisScript::RedisScript(std::string source)
    : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

RedisClient::RedisClient(RedisConfig config, std::size_t max_connections)
    : config_(std::move(config)), max_connections_(std::max<std::size_t>(max_connections, 1)) {}

RedisClient::~RedisClient() = default;

Result<RedisValue> RedisClient::command(const RedisArgs& args, std::chrono::milliseconds extra) {
  auto replies = run(std::span<const RedisArgs>(&args, 1), extra);
  if (!replies) return std::unexpected(replies.error());
  RedisValue& reply = replies->front();
  if (reply.is_error())
    return fail(transient(reply.str) ? Errc::unavailable : Errc::internal,
                std::string(kDetailPrefix) + reply.str);
  return std::move(reply);
}

Result<std::vector<RedisValue>> RedisClient::pipeline(std::span<const RedisArgs> commands,
                                                      std::chrono::milliseconds extra) {
  return run(commands, extra);
}

Result<RedisValue> RedisClient::eval(const RedisScript& script, const RedisArgs& keys,
                                     const RedisArgs& args) {
  std::string key_count = std::to_string(keys.size());
  RedisArgs call{"EVALSHA", script.sha1(), key_count};
  call.insert(call.end(), keys.begin(), keys.end());
  call.insert(call.end(), args.begin(), args.end());
  auto reply = command(call);
  if (reply || !is_redis_error(reply.error(), "NOSCRIPT")) return reply;
  // The server's script cache is empty after a restart: EVAL sends the source and caches it.
  call[0] = "EVAL";
  call[1] = script.source();
  return command(call);
}

void RedisClient::render_latency(std::string& out) const {
  latency_.render(out, "shortener_redis_command_seconds",
                  "Redis round-trip time of non-blocking calls (pipelines count once).");
}

RedisCounters RedisClient::counters() const {
  return {commands_.load(), failures_.load(), connects_.load(), connect_failures_.load()};
}

Result<std::vector<RedisValue>> RedisClient::run(std::span<const RedisArgs> commands,
                                                 std::chrono::milliseconds extra) {
  commands_.fetch_add(1, std::memory_order_relaxed);
  auto connection = acquire();
  if (!connection) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    return std::unexpected(connection.error());
  }
  auto started = std::chrono::steady_clock::now();
  auto replies = (*connection)->pipeline(commands, extra);
  if (extra.count() == 0)
    latency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!replies) failures_.fetch_add(1, std::memory_order_relaxed);
  release(std::move(*connection));
  return replies;
}

Result<std::unique_ptr<RedisConnection>> RedisClient::acquire() {
  auto deadline = std::chrono::steady_clock::now() + config_.command_timeout;
  std::unique_lock lock(mutex_);
  while (idle_.empty() && open_ >= max_connections_) {
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_connections_)
      return fail(Errc::unavailable, "redis: no free connection within the command timeout");
  }
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return connection;
  }
  auto now = std::chrono::steady_clock::now();
  bool down = backoff_.count() > 0;
  if (down && (probing_ || now < retry_at_))
    return fail(Errc::unavailable, "redis: unavailable; reconnecting with backoff");
  ++open_;
  probing_ = down;
  lock.unlock();
  auto connection = RedisConnection::open(config_);  // up to connect_timeout, outside the lock
  lock.lock();
  probing_ = false;
  if (!connection) {
    --open_;
    connect_failures_.fetch_add(1, std::memory_order_relaxed);
    backoff_ = std::clamp(backoff_ * 2, config_.backoff_min, config_.backoff_max);
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    available_.store(false, std::memory_order_relaxed);
    returned_.notify_one();
    return std::unexpected(connection.error());
  }
  connects_.fetch_add(1, std::memory_order_relaxed);
  backoff_ = std::chrono::milliseconds(0);
  available_.store(true, std::memory_order_relaxed);
  return std::move(*connection);
}

void RedisClient::release(std::unique_ptr<RedisConnection> connection) {
  std::vector<std::unique_ptr<RedisConnection>> dropped;
  {
    std::lock_guard lock(mutex_);
    if (connection->broken()) {
      // Usually the server went away (restart, failover): the idle connections are most likely
      // dead too. Dropping them makes the next callers reconnect instead of failing one by one.
      dropped = std::move(idle_);
      idle_.clear();
      open_ -= dropped.size() + 1;
    } else {
      idle_.push_back(std::move(connection));
    }
  }
  returned_.notify_all();
}

bool is_redis_error(const Error& error, std::string_view code) {
  std::string_view detail = error.detail;
  return detail.starts_with(kDetailPrefix) && detail.substr(kDetailPrefix.size()).starts_with(code);
}

std::optional<long long> as_integer(const RedisValue& value) {
  if (value.type == RedisValue::Type::integer) return value.integer;
  if (value.type != RedisValue::Type::string) return std::nullopt;
  long long n = 0;
  auto [end, ec] = std::from_chars(value.str.data(), value.str.data() + value.str.size(), n);
  if (ec != std::errc() || end != value.str.data() + value.str.size()) return std::nullopt;
  return n;
}

}  // namespace shortener
