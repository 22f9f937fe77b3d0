#include "redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cstdlib>

namespace shortener {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{.tv_sec = static_cast<time_t>(ms.count() / 1000),
                 .tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

RedisValue convert(const redisReply& reply) {
  RedisValue value;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      value.type = RedisValue::Type::string;
      value.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::status;
      value.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      value.type = RedisValue::Type::error;
      value.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::integer;
      value.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::array;
      value.elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i)
        value.elements.push_back(convert(*reply.element[i]));
      break;
    default:
      break;  // nil
  }
  return value;
}

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};

}  // namespace

RedisConnection::RedisConnection(redisContext* context, std::chrono::milliseconds timeout)
    : context_(context), command_timeout_(timeout), socket_timeout_(0) {}

RedisConnection::~RedisConnection() {
  redisFree(context_);
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::open(const RedisConfig& config) {
  redisContext* context =
      redisConnectWithTimeout(config.host.c_str(), config.port, to_timeval(config.connect_timeout));
  if (context == nullptr) return fail(Errc::unavailable, "redis: out of memory");
  if (context->err != 0) {
    std::string why = context->errstr;
    redisFree(context);
    return fail(Errc::unavailable, "redis: cannot connect to " + redacted_url(config) + ": " + why);
  }
  // Keepalive finds a peer that vanished without a FIN (a dead host, a dropped NAT entry).
  redisEnableKeepAlive(context);
  std::unique_ptr<RedisConnection> connection(new RedisConnection(context, config.command_timeout));
  connection->set_timeout(config.command_timeout);
  std::string db = std::to_string(config.db);
  std::vector<RedisArgs> setup;
  if (!config.password.empty()) setup.push_back({"AUTH", config.password});
  if (config.db != 0) setup.push_back({"SELECT", db});
  if (setup.empty()) return connection;
  auto replies = connection->pipeline(setup);
  if (!replies) return std::unexpected(replies.error());
  for (const RedisValue& reply : *replies)
    if (reply.is_error()) return fail(Errc::unavailable, "redis: setup: " + reply.str);
  return connection;
}

Result<std::vector<RedisValue>> RedisConnection::pipeline(std::span<const RedisArgs> commands,
                                                          std::chrono::milliseconds extra) {
  if (broken_) return fail(Errc::unavailable, "redis: connection is broken");
  set_timeout(command_timeout_ + extra);
  for (const RedisArgs& args : commands)
    if (auto appended = append(args); !appended) return std::unexpected(appended.error());
  if (auto flushed = flush(); !flushed) return std::unexpected(flushed.error());
  std::vector<RedisValue> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto reply = read_reply();
    if (!reply) return std::unexpected(reply.error());
    replies.push_back(std::move(*reply));
  }
  return replies;
}

Result<RedisValue> RedisConnection::call(const RedisArgs& args, std::chrono::milliseconds extra) {
  auto replies = pipeline(std::span<const RedisArgs>(&args, 1), extra);
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

Result<void> RedisConnection::send(const RedisArgs& args) {
  if (broken_) return fail(Errc::unavailable, "redis: connection is broken");
  if (auto appended = append(args); !appended) return appended;
  return flush();
}

Result<void> RedisConnection::read_some() {
  if (redisBufferRead(context_) != REDIS_OK) return transport_error("read");
  return {};
}

Result<std::optional<RedisValue>> RedisConnection::buffered_reply() {
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) return transport_error("protocol");
  if (raw == nullptr) return std::optional<RedisValue>();
  std::unique_ptr<void, ReplyDeleter> reply(raw);
  return std::optional<RedisValue>(convert(*static_cast<redisReply*>(raw)));
}

int RedisConnection::fd() const {
  return context_->fd;
}

Result<void> RedisConnection::append(const RedisArgs& args) {
  // hiredis wants parallel arrays; a small vector per command is cheap next to a round trip.
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv.data(),
                             lengths.data()) != REDIS_OK)
    return transport_error("append");
  return {};
}

Result<void> RedisConnection::flush() {
  int done = 0;
  while (done == 0)
    if (redisBufferWrite(context_, &done) != REDIS_OK) return transport_error("write");
  return {};
}

Result<RedisValue> RedisConnection::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) return transport_error("read");
  std::unique_ptr<void, ReplyDeleter> reply(raw);
  return convert(*static_cast<redisReply*>(raw));
}

void RedisConnection::set_timeout(std::chrono::milliseconds timeout) {
  if (timeout == socket_timeout_) return;  // two setsockopt calls saved on the hot path
  if (redisSetTimeout(context_, to_timeval(timeout)) == REDIS_OK) socket_timeout_ = timeout;
}

std::unexpected<Error> RedisConnection::transport_error(std::string_view what) {
  broken_ = true;
  std::string why = context_->err != 0 ? context_->errstr : "connection closed";
  return fail(Errc::unavailable, "redis: " + std::string(what) + ": " + why);
}

}  // namespace shortener
