#include "redis/redis_subscriber.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "redis/redis_connection.h"

namespace shortener {

namespace {
// Silence for this many ping intervals means the connection is dead.
constexpr int kMissedPings = 3;
}  // namespace

RedisSubscriber::RedisSubscriber(RedisConfig config, std::vector<std::string> channels,
                                 MessageHandler on_message, std::function<void()> on_subscribed,
                                 std::chrono::milliseconds ping_interval)
    : config_(std::move(config)),
      channels_(std::move(channels)),
      on_message_(std::move(on_message)),
      on_subscribed_(std::move(on_subscribed)),
      ping_interval_(ping_interval),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

RedisSubscriber::~RedisSubscriber() {
  stop();
  close(wake_fd_);
}

void RedisSubscriber::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void RedisSubscriber::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void RedisSubscriber::run() {
  auto backoff = config_.backoff_min;
  while (!stopping_) {
    if (session()) backoff = config_.backoff_min;  // it worked for a while: retry promptly
    subscribed_ = false;
    if (stopping_) break;
    pause(backoff);
    backoff = std::min(backoff * 2, config_.backoff_max);
  }
}

bool RedisSubscriber::session() {
  auto connection = RedisConnection::open(config_);
  if (!connection) return false;
  RedisArgs subscribe{"SUBSCRIBE"};
  for (const std::string& channel : channels_) subscribe.push_back(channel);
  if (!(*connection)->send(subscribe)) return false;
  std::size_t confirmations = 0;
  using Clock = std::chrono::steady_clock;
  auto last_heard = Clock::now();
  auto last_ping = last_heard;
  while (!stopping_) {
    pollfd fds[2] = {{(*connection)->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready = poll(fds, 2, static_cast<int>(ping_interval_.count()));
    if (ready < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) {
      std::uint64_t drained = 0;
      (void)!read(wake_fd_, &drained, sizeof drained);
      continue;
    }
    auto now = Clock::now();
    if (fds[0].revents != 0) {
      if (!(*connection)->read_some() || !dispatch(**connection, confirmations)) break;
      last_heard = now;
    }
    if (now - last_heard > kMissedPings * ping_interval_) break;
    if (now - last_ping >= ping_interval_) {
      if (!(*connection)->send({"PING"})) break;
      last_ping = now;
    }
  }
  return confirmations == channels_.size();
}

bool RedisSubscriber::dispatch(RedisConnection& connection, std::size_t& confirmations) {
  for (;;) {
    auto reply = connection.buffered_reply();
    if (!reply) return false;
    if (!*reply) return true;
    handle(**reply, confirmations);
  }
}

void RedisSubscriber::handle(const RedisValue& reply, std::size_t& confirmations) {
  if (!reply.is_array() || reply.elements.size() < 2) return;  // PING's reply, nothing to do
  const std::string& kind = reply.elements[0].str;
  if (kind == "message" && reply.elements.size() == 3) {
    on_message_(reply.elements[1].str, reply.elements[2].str);
  } else if (kind == "subscribe" && ++confirmations == channels_.size()) {
    subscribed_ = true;
    subscriptions_.fetch_add(1);
    if (on_subscribed_) on_subscribed_();
  }
}

void RedisSubscriber::pause(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  stop_requested_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

}  // namespace shortener
