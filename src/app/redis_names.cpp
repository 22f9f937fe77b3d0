#include "app/redis_names.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "metrics/exposition.h"

namespace shortener {

RedisLinkCacheOptions redis_cache_options(const std::string& prefix) {
  RedisLinkCacheOptions options;
  options.key_prefix = prefix + options.key_prefix;
  options.version_prefix = prefix + options.version_prefix;
  options.channel = prefix + options.channel;
  return options;
}

RedisClickQueueOptions redis_queue_options(const std::string& prefix) {
  RedisClickQueueOptions options;
  options.stream = prefix + options.stream;
  options.dead_stream = prefix + options.dead_stream;
  options.length_key = prefix + options.length_key;
  return options;
}

RedisLiveFeedOptions redis_live_options(const std::string& prefix) {
  RedisLiveFeedOptions options;
  options.channel = prefix + options.channel;
  return options;
}

std::string redis_rate_limit_prefix(const std::string& prefix) {
  return prefix + "ratelimit:";
}

void stop_stream_consumers(RedisClickQueue& stream, ClickWorkers& workers,
                           std::chrono::steady_clock::time_point deadline) {
  stream.close();
  while (stream.in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  workers.drain_and_stop(std::chrono::steady_clock::now());
  if (workers.stuck()) return;
  if (auto left = stream.leave(); !left)
    spdlog::warn("could not leave the consumer group: {}", left.error().detail);
  else if (!*left)
    spdlog::info("left entries pending in the consumer group; another worker reclaims them");
}

void render_redis_client(std::string& out, const RedisClient& client, bool up) {
  auto counters = client.counters();
  metrics::append(out, "shortener_redis_up", "gauge", "1 while Redis answers.", up ? 1 : 0);
  metrics::append(out, "shortener_redis_commands_total", "counter", "Redis round trips attempted.",
                  static_cast<double>(counters.commands));
  metrics::append(out, "shortener_redis_errors_total", "counter",
                  "Redis round trips that failed or timed out.",
                  static_cast<double>(counters.failures));
  client.render_latency(out);
}

std::optional<std::string> RedisSharedSalts::agree(enrich::VisitorDay day,
                                                   const std::string& proposed) {
  constexpr const char* kTwoDays = "172800";
  std::string key = prefix_ + "visitor-salt:" + std::to_string(day);
  const RedisArgs commands[] = {{"SET", key, proposed, "NX", "EX", kTwoDays}, {"GET", key}};
  auto replies = client_.pipeline(commands);
  if (!replies || replies->size() != 2 || (*replies)[1].type != RedisValue::Type::string)
    return std::nullopt;
  return (*replies)[1].str;
}

}  // namespace shortener
