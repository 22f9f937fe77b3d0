// A SUBSCRIBE connection on its own thread, for pub/sub fan-in (cache invalidations, live
// clicks). It reconnects with backoff and subscribes again. Pub/sub keeps nothing for absent
// subscribers, so messages published while it was disconnected are lost: `on_subscribed` runs
// after every successful (re)subscription so the owner can resynchronise (e.g. drop its L1).
//
// The thread waits in poll() on the socket and an eventfd (stop() wakes it at once) rather than
// in a blocking read with a timeout: a timed-out read breaks a hiredis connection. A PING every
// `ping_interval` (allowed in subscribed mode) detects a silently dead connection: nothing heard
// for three intervals means reconnect.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis/redis_config.h"

namespace shortener {

class RedisConnection;
struct RedisValue;

class RedisSubscriber {
 public:
  using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;

  // Handlers run on the subscriber thread; they must not block for long (messages queue in the
  // server's output buffer meanwhile, and Redis disconnects a subscriber that lags too far).
  RedisSubscriber(RedisConfig config, std::vector<std::string> channels, MessageHandler on_message,
                  std::function<void()> on_subscribed = {},
                  std::chrono::milliseconds ping_interval = std::chrono::milliseconds(1000));
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void start();
  void stop();  // idempotent; joins the thread

  bool subscribed() const { return subscribed_.load(); }
  std::uint64_t subscriptions() const {
    return subscriptions_.load();
  }  // successful (re)subscribes

 private:
  void run();
  bool session();  // one connection's life; true when it got subscribed
  bool dispatch(RedisConnection& connection, std::size_t& confirmations);
  void handle(const RedisValue& reply, std::size_t& confirmations);
  void pause(std::chrono::milliseconds duration);

  RedisConfig config_;
  std::vector<std::string> channels_;
  MessageHandler on_message_;
  std::function<void()> on_subscribed_;
  std::chrono::milliseconds ping_interval_;
  int wake_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<std::uint64_t> subscriptions_{0};
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  std::thread thread_;
};

}  // namespace shortener
