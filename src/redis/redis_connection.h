// One synchronous hiredis connection, and the reply type that keeps hiredis out of every other
// header. Blocking I/O with socket timeouts (SO_RCVTIMEO/SO_SNDTIMEO via redisSetTimeout): a
// reply that does not arrive in time breaks the connection (hiredis cannot resynchronise the
// stream), and its owner throws it away and reconnects.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "redis/redis_config.h"

struct redisContext;

namespace shortener {

// A reply, copied out of hiredis's reader.
struct RedisValue {
  enum class Type { nil, string, integer, array, status, error };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;  // string, status and error replies
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }
  bool is_array() const { return type == Type::array; }
};

// Binary-safe arguments: each is sent as one bulk string.
using RedisArgs = std::vector<std::string_view>;

class RedisConnection {
 public:
  // Connects within config.connect_timeout, then AUTH and SELECT as configured.
  static Result<std::unique_ptr<RedisConnection>> open(const RedisConfig& config);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends the commands in one write and reads their replies. Error replies are values; a
  // transport failure or timeout is Errc::unavailable and breaks the connection. `extra`
  // extends the reply deadline (blocking commands: their BLOCK time).
  Result<std::vector<RedisValue>> pipeline(std::span<const RedisArgs> commands,
                                           std::chrono::milliseconds extra = {});
  Result<RedisValue> call(const RedisArgs& args, std::chrono::milliseconds extra = {});

  // Pub/sub use, driven by poll() on fd(): queue and flush a command without reading; read
  // what the socket holds; take one complete reply if the reader has one.
  Result<void> send(const RedisArgs& args);
  Result<void> read_some();
  Result<std::optional<RedisValue>> buffered_reply();
  int fd() const;

  bool broken() const { return broken_; }

 private:
  RedisConnection(redisContext* context, std::chrono::milliseconds timeout);
  Result<void> append(const RedisArgs& args);
  Result<void> flush();
  Result<RedisValue> read_reply();
  void set_timeout(std::chrono::milliseconds timeout);
  std::unexpected<Error> transport_error(std::string_view what);

  redisContext* context_;
  std::chrono::milliseconds command_timeout_;
  std::chrono::milliseconds socket_timeout_;  // what the socket currently has
  bool broken_ = false;
};

}  // namespace shortener
