#include "queue/redis/redis_click_queue.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "queue/redis/click_codec.h"
#include "queue/redis/stream_entries.h"

namespace shortener {

namespace {

std::string default_consumer() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "worker") + "-" + std::to_string(getpid());
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A MULTI ... EXEC pipeline succeeded only if EXEC answered an array. Points into `replies`.
Result<const RedisValue*> exec_result(const Result<std::vector<RedisValue>>& replies,
                                      std::string_view what) {
  if (!replies) return std::unexpected(replies.error());
  const RedisValue& exec = replies->back();
  if (exec.is_array()) return &exec;
  for (const RedisValue& reply : *replies)
    if (reply.is_error())
      return fail(Errc::internal, "redis: " + std::string(what) + ": " + reply.str);
  return fail(Errc::internal, "redis: " + std::string(what) + ": transaction aborted");
}

// The replies must outlive the pointer: a temporary would not.
Result<const RedisValue*> exec_result(Result<std::vector<RedisValue>>&&, std::string_view) = delete;

}  // namespace

RedisClickQueue::RedisClickQueue(RedisClient& client, RedisClickQueueOptions options)
    : client_(client),
      options_(std::move(options)),
      max_length_text_(std::to_string(options_.max_length)),
      dead_max_length_text_(std::to_string(options_.dead_max_length)),
      claim_idle_text_(std::to_string(options_.claim_idle.count())) {
  if (options_.consumer.empty()) options_.consumer = default_consumer();
}

Result<void> RedisClickQueue::ensure_group() {
  // From the stream's start ("0"), not "$": events pushed before the first worker ever started
  // belong to the group too.
  auto created =
      client_.command({"XGROUP", "CREATE", options_.stream, options_.group, "0", "MKSTREAM"});
  if (!created && !is_redis_error(created.error(), "BUSYGROUP"))
    return std::unexpected(created.error());
  return {};
}

Result<void> RedisClickQueue::push(std::vector<ClickEvent>&& events) {
  if (events.empty()) return {};
  if (length_.load() >= options_.max_length && size() >= options_.max_length) {
    push_failures_.fetch_add(1, std::memory_order_relaxed);
    return fail(Errc::unavailable, "click stream is full (" + std::to_string(length_.load()) +
                                       " entries): workers are not keeping up");
  }
  for (std::size_t begin = 0; begin < events.size(); begin += options_.push_chunk) {
    std::size_t end = std::min(events.size(), begin + options_.push_chunk);
    std::vector<std::string> payloads;
    payloads.reserve(end - begin);
    std::vector<RedisArgs> commands{{"MULTI"}};
    for (std::size_t i = begin; i < end; ++i) {
      payloads.push_back(encode_click_event(events[i]));
      commands.push_back(
          {"XADD", options_.stream, "MAXLEN", "~", max_length_text_, "*", "e", payloads.back()});
    }
    commands.push_back({"XLEN", options_.stream});
    commands.push_back({"EXEC"});
    auto replies = client_.pipeline(commands);
    auto exec = exec_result(replies, "XADD");
    if (!exec) {
      // Chunks before this one are in the stream; the caller pushes them again with the rest,
      // and the ClickStore drops the duplicates by event id.
      push_failures_.fetch_add(1, std::memory_order_relaxed);
      return std::unexpected(exec.error());
    }
    note_length((*exec)->elements.back());
  }
  pushed_.fetch_add(events.size(), std::memory_order_relaxed);
  events.clear();
  return {};
}

Result<ClickDelivery> RedisClickQueue::pop(std::size_t max, std::chrono::milliseconds wait) {
  if (closed_) {
    std::this_thread::sleep_for(wait);  // no new work; do not let the caller's loop spin
    return ClickDelivery{};
  }
  retry_acks();
  auto retried = redeliver(max);
  if (!retried) return failed(retried.error(), wait);
  if (!retried->events.empty()) return retried;
  if (reclaim_due()) {
    auto reclaimed = reclaim_idle(max);
    reclaiming_ = false;
    if (!reclaimed) return failed(reclaimed.error(), wait);
    if (!reclaimed->events.empty()) return reclaimed;
  }
  auto fresh = read_new(max, wait);
  if (!fresh) return failed(fresh.error(), wait);
  return fresh;
}

Result<ClickDelivery> RedisClickQueue::failed(Error error, std::chrono::milliseconds wait) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  std::this_thread::sleep_for(wait);
  return std::unexpected(std::move(error));
}

Result<ClickDelivery> RedisClickQueue::read_new(std::size_t max, std::chrono::milliseconds wait) {
  std::string count = std::to_string(std::max<std::size_t>(max, 1));
  std::string block = std::to_string(wait.count());
  RedisArgs args{"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count};
  if (wait.count() > 0) {  // BLOCK 0 would wait forever
    args.push_back("BLOCK");
    args.push_back(block);
  }
  args.insert(args.end(), {"STREAMS", options_.stream, ">"});
  auto reply = client_.command(args, wait);
  if (!reply && is_redis_error(reply.error(), "NOGROUP")) {
    if (auto created = ensure_group(); !created) return std::unexpected(created.error());
    reply = client_.command(args, wait);
  }
  if (!reply) return std::unexpected(reply.error());
  if (!reply->is_array() || reply->elements.empty()) return ClickDelivery{};  // nil: timed out
  RedisValue& streams = *reply;
  if (streams.elements[0].elements.size() != 2) return ClickDelivery{};
  return deliver(std::move(streams.elements[0].elements[1].elements));
}

Result<ClickDelivery> RedisClickQueue::redeliver(std::size_t max) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    while (!retry_.empty() && ids.size() < max) {
      ids.push_back(std::move(retry_.front()));
      retry_.pop_front();
    }
  }
  if (ids.empty()) return ClickDelivery{};
  RedisArgs args{"XCLAIM", options_.stream, options_.group, options_.consumer, "0"};
  args.insert(args.end(), ids.begin(), ids.end());
  auto reply = client_.command(args);
  // The group is gone (a server that lost its data): so are the entries; nothing to retry.
  if (!reply && is_redis_error(reply.error(), "NOGROUP")) return ClickDelivery{};
  if (!reply) {
    std::lock_guard lock(mutex_);
    retry_.insert(retry_.begin(), ids.begin(), ids.end());
    return std::unexpected(reply.error());
  }
  return deliver_claimed(std::move(reply->elements));
}

bool RedisClickQueue::reclaim_due() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now < next_reclaim_ || reclaiming_.exchange(true)) return false;
  next_reclaim_ = now + options_.reclaim_interval;
  return true;
}

Result<ClickDelivery> RedisClickQueue::reclaim_idle(std::size_t max) {
  std::string cursor;
  {
    std::lock_guard lock(mutex_);
    cursor = claim_cursor_;
  }
  std::string count = std::to_string(std::max<std::size_t>(max, 1));
  auto reply = client_.command({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer,
                                claim_idle_text_, cursor, "COUNT", count});
  // No group yet (or the server lost it): nothing pending; read_new() creates it.
  if (!reply && is_redis_error(reply.error(), "NOGROUP")) return ClickDelivery{};
  if (!reply) return std::unexpected(reply.error());
  if (!reply->is_array() || reply->elements.size() < 2)
    return fail(Errc::internal, "redis: unexpected XAUTOCLAIM reply");
  {
    std::lock_guard lock(mutex_);
    claim_cursor_ = reply->elements[0].str;
    // Not at the end of the pending list yet: keep scanning on the next pop.
    if (claim_cursor_ != "0-0") next_reclaim_ = std::chrono::steady_clock::now();
  }
  reclaimed_.fetch_add(reply->elements[1].elements.size(), std::memory_order_relaxed);
  return deliver_claimed(std::move(reply->elements[1].elements));
}

Result<ClickDelivery> RedisClickQueue::deliver_claimed(std::vector<RedisValue> entries) {
  if (entries.empty()) return ClickDelivery{};
  // The claim counted a delivery; how many so far decides between delivering and dead-lettering.
  std::vector<RedisArgs> queries;
  for (const RedisValue& entry : entries) {
    const std::string* id = stream::id(entry);
    std::string_view id_view = id ? std::string_view(*id) : std::string_view("0-0");
    queries.push_back({"XPENDING", options_.stream, options_.group, id_view, id_view, "1"});
  }
  auto pending = client_.pipeline(queries);
  if (!pending) {
    std::lock_guard lock(mutex_);
    for (const RedisValue& entry : entries)
      if (const std::string* id = stream::id(entry)) retry_.push_back(*id);
    return std::unexpected(pending.error());
  }
  std::vector<RedisValue> deliverable, exhausted;
  std::vector<std::int64_t> counts;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const RedisValue& info = (*pending)[i];
    std::int64_t count = 1;
    if (info.is_array() && !info.elements.empty() && info.elements[0].elements.size() == 4)
      count = as_integer(info.elements[0].elements[3]).value_or(1);
    if (count > options_.max_deliveries) {
      exhausted.push_back(std::move(entries[i]));
      counts.push_back(count - 1);  // the deliveries that actually happened
    } else {
      deliverable.push_back(std::move(entries[i]));
    }
  }
  if (!exhausted.empty()) {
    if (auto moved = dead_letter(exhausted, counts, "too many failed deliveries"); !moved)
      return std::unexpected(moved.error());
  }
  return deliver(std::move(deliverable));
}

Result<ClickDelivery> RedisClickQueue::deliver(std::vector<RedisValue> entries) {
  ClickDelivery delivery;
  std::vector<std::string> ids;
  std::vector<RedisValue> undecodable;
  delivery.events.reserve(entries.size());
  for (RedisValue& entry : entries) {
    const std::string* id = stream::id(entry);
    const std::string* payload = stream::field(entry, "e");
    if (id == nullptr) continue;
    auto event = payload ? decode_click_event(*payload) : std::nullopt;
    if (!event) {
      if (payload) undecodable.push_back(std::move(entry));
      continue;  // no payload: deleted (trimmed) while pending, nothing left to deliver
    }
    ids.push_back(*id);
    delivery.events.push_back(std::move(*event));
  }
  if (!undecodable.empty()) {
    if (auto moved = dead_letter(undecodable, std::vector<std::int64_t>(undecodable.size(), 1),
                                 "undecodable event");
        !moved)
      return std::unexpected(moved.error());
  }
  if (ids.empty()) return ClickDelivery{};
  delivered_.fetch_add(ids.size(), std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  delivery.token = next_token_++;
  in_flight_.emplace(delivery.token, std::move(ids));
  return delivery;
}

Result<void> RedisClickQueue::ack(const ClickDelivery& delivery) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    auto found = in_flight_.find(delivery.token);
    if (found == in_flight_.end()) return {};  // already acknowledged
    ids = std::move(found->second);
    in_flight_.erase(found);
  }
  if (auto done = acknowledge(ids); !done) {
    // Still pending in Redis: retried on the next pop; if this process dies first, another
    // worker reclaims and stores them again, which the store absorbs.
    errors_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    failed_acks_.insert(failed_acks_.end(), ids.begin(), ids.end());
    return done;
  }
  return {};
}

void RedisClickQueue::retry_acks() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    if (failed_acks_.empty()) return;
    ids.swap(failed_acks_);
  }
  if (!acknowledge(ids)) {
    std::lock_guard lock(mutex_);
    failed_acks_.insert(failed_acks_.end(), ids.begin(), ids.end());
  }
}

Result<void> RedisClickQueue::acknowledge(const std::vector<std::string>& ids) {
  RedisArgs xack{"XACK", options_.stream, options_.group};
  RedisArgs xdel{"XDEL", options_.stream};
  xack.insert(xack.end(), ids.begin(), ids.end());
  xdel.insert(xdel.end(), ids.begin(), ids.end());
  const RedisArgs commands[] = {{"MULTI"}, xack, xdel, {"EXEC"}};
  auto replies = client_.pipeline(commands);
  auto exec = exec_result(replies, "XACK");
  if (!exec) return std::unexpected(exec.error());
  acked_.fetch_add(ids.size(), std::memory_order_relaxed);
  return {};
}

void RedisClickQueue::nack(ClickDelivery delivery) {
  std::lock_guard lock(mutex_);
  auto found = in_flight_.find(delivery.token);
  if (found == in_flight_.end()) return;
  retry_.insert(retry_.end(), found->second.begin(), found->second.end());
  in_flight_.erase(found);
}

std::size_t RedisClickQueue::size() const {
  std::int64_t now = steady_ns();
  std::int64_t checked = length_checked_ns_.load();
  auto refresh_ns = std::chrono::nanoseconds(options_.length_refresh).count();
  if (now - checked >= refresh_ns && length_checked_ns_.compare_exchange_strong(checked, now)) {
    if (auto length = client_.command({"XLEN", options_.stream})) note_length(*length);
  }
  return length_.load();
}

void RedisClickQueue::note_length(const RedisValue& reply) const {
  if (auto n = as_integer(reply)) length_.store(static_cast<std::size_t>(std::max(*n, 0LL)));
}

void RedisClickQueue::close() {
  closed_ = true;
}

Result<bool> RedisClickQueue::leave() {
  auto pending = client_.command(
      {"XPENDING", options_.stream, options_.group, "-", "+", "1", options_.consumer});
  if (!pending) return std::unexpected(pending.error());
  if (!pending->elements.empty()) return false;
  auto removed = client_.command(
      {"XGROUP", "DELCONSUMER", options_.stream, options_.group, options_.consumer});
  if (!removed) return std::unexpected(removed.error());
  return true;
}

std::size_t RedisClickQueue::in_flight() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [token, ids] : in_flight_) n += ids.size();
  return n;
}

RedisClickQueueCounters RedisClickQueue::counters() const {
  return {pushed_.load(),    push_failures_.load(), delivered_.load(), acked_.load(),
          reclaimed_.load(), dead_lettered_.load(), errors_.load()};
}

}  // namespace shortener
