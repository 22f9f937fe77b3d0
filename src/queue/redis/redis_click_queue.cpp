#include "queue/redis/redis_click_queue.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <span>
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

// KEYS: the stream, its click counter. ARGV: the group, then per entry its id and clicks.
// Answers the backlog in clicks. An entry another consumer acknowledged already (it reclaimed
// it) is not subtracted twice. The counter can drift (entries trimmed by MAXLEN, or written
// by an earlier version without it): it is reset whenever the stream is empty, and the stream's
// own length is the floor.
constexpr std::string_view kSettleScript = R"lua(
local settled = 0
for i = 2, #ARGV, 2 do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    redis.call('XDEL', KEYS[1], ARGV[i])
    settled = settled + tonumber(ARGV[i + 1])
  end
end
local entries = redis.call('XLEN', KEYS[1])
if entries == 0 then
  redis.call('DEL', KEYS[2])
  return 0
end
return math.max(redis.call('DECRBY', KEYS[2], settled), entries)
)lua";

std::size_t clamp_count(long long n) {
  return static_cast<std::size_t>(std::max(n, 0LL));
}

}  // namespace

RedisClickQueue::RedisClickQueue(RedisClient& client, RedisClickQueueOptions options)
    : client_(client),
      options_(std::move(options)),
      max_length_text_(std::to_string(options_.max_length)),
      dead_max_length_text_(std::to_string(options_.dead_max_length)),
      claim_idle_text_(std::to_string(options_.claim_idle.count())) {
  if (options_.consumer.empty()) options_.consumer = default_consumer();
  options_.entry_events = std::max<std::size_t>(options_.entry_events, 1);
  entry_estimate_ = options_.entry_events;
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
                                       " clicks): workers are not keeping up");
  }
  std::span<const ClickEvent> all(events);
  std::size_t chunk = std::max(options_.push_chunk, options_.entry_events);
  for (std::size_t begin = 0; begin < all.size(); begin += chunk) {
    auto part = all.subspan(begin, std::min(chunk, all.size() - begin));
    // Reserved for every entry up front: the commands hold views into these strings.
    std::vector<std::string> payloads;
    payloads.reserve(part.size() / options_.entry_events + 1);
    std::vector<RedisArgs> commands{{"MULTI"}};
    for (std::size_t at = 0; at < part.size(); at += options_.entry_events) {
      payloads.push_back(
          encode_click_batch(part.subspan(at, std::min(options_.entry_events, part.size() - at))));
      commands.push_back(
          {"XADD", options_.stream, "MAXLEN", "~", max_length_text_, "*", "b", payloads.back()});
    }
    std::string clicks = std::to_string(part.size());
    commands.push_back({"INCRBY", options_.length_key, clicks});
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
    const auto& results = (*exec)->elements;  // ..., INCRBY, XLEN
    if (results.size() >= 2)
      length_.store(backlog_clicks(results.back(), results[results.size() - 2]));
  }
  pushed_.fetch_add(events.size(), std::memory_order_relaxed);
  events.clear();
  return {};
}

Result<ClickDelivery> RedisClickQueue::pop(std::size_t max, std::chrono::milliseconds wait) {
  max = std::max<std::size_t>(max, 1);
  if (ClickDelivery ready = take(max); !ready.events.empty()) return ready;
  if (closed_) {
    std::this_thread::sleep_for(wait);  // no new work; do not let the caller's loop spin
    return ClickDelivery{};
  }
  retry_acks();
  if (auto retried = redeliver(max); !retried) return failed(retried.error(), wait);
  if (ClickDelivery ready = take(max); !ready.events.empty()) return ready;
  if (reclaim_due()) {
    auto reclaimed = reclaim_idle(max);
    reclaiming_ = false;
    if (!reclaimed) return failed(reclaimed.error(), wait);
    if (ClickDelivery ready = take(max); !ready.events.empty()) return ready;
  }
  if (auto fresh = read_new(max, wait); !fresh) return failed(fresh.error(), wait);
  return take(max);
}

Result<ClickDelivery> RedisClickQueue::failed(Error error, std::chrono::milliseconds wait) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  std::this_thread::sleep_for(wait);
  return std::unexpected(std::move(error));
}

Result<void> RedisClickQueue::read_new(std::size_t max, std::chrono::milliseconds wait) {
  // A first read sized by the last estimate; when it was too cautious (every entry asked for
  // came, yet fewer clicks than wanted), a few more without blocking, sized by what it found.
  constexpr int kMaxReads = 4;
  std::size_t wanted = max;
  std::string block = std::to_string(wait.count());
  for (int read = 0; read < kMaxReads; ++read) {
    std::size_t asked = entries_for(wanted);
    std::string count = std::to_string(asked);
    RedisArgs args{"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count};
    if (read == 0 && wait.count() > 0) {  // BLOCK 0 would wait forever
      args.push_back("BLOCK");
      args.push_back(block);
    }
    args.insert(args.end(), {"STREAMS", options_.stream, ">"});
    auto reply = client_.command(args, wait);
    if (!reply && is_redis_error(reply.error(), "NOGROUP")) {
      if (auto created = ensure_group(); !created) return std::unexpected(created.error());
      reply = client_.command(args, wait);
    }
    if (!reply) return read == 0 ? std::unexpected(reply.error()) : Result<void>{};
    if (!reply->is_array() || reply->elements.empty()) return {};  // nil: timed out
    RedisValue& streams = *reply;
    if (streams.elements[0].elements.size() != 2) return {};
    auto& entries = streams.elements[0].elements[1].elements;
    std::size_t got = entries.size();
    auto clicks = stash(std::move(entries));
    if (!clicks) return std::unexpected(clicks.error());
    if (got < asked || *clicks >= wanted) return {};
    wanted -= *clicks;
  }
  return {};
}

Result<void> RedisClickQueue::redeliver(std::size_t max) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t n = entries_for(max); !retry_.empty() && ids.size() < n;) {
      ids.push_back(std::move(retry_.front()));
      retry_.pop_front();
    }
  }
  if (ids.empty()) return {};
  RedisArgs args{"XCLAIM", options_.stream, options_.group, options_.consumer, "0"};
  args.insert(args.end(), ids.begin(), ids.end());
  auto reply = client_.command(args);
  // The group is gone (a server that lost its data): so are the entries; nothing to retry.
  if (!reply && is_redis_error(reply.error(), "NOGROUP")) return {};
  if (!reply) {
    std::lock_guard lock(mutex_);
    retry_.insert(retry_.begin(), ids.begin(), ids.end());
    return std::unexpected(reply.error());
  }
  return stash_claimed(std::move(reply->elements));
}

bool RedisClickQueue::reclaim_due() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now < next_reclaim_ || reclaiming_.exchange(true)) return false;
  next_reclaim_ = now + options_.reclaim_interval;
  return true;
}

Result<void> RedisClickQueue::reclaim_idle(std::size_t max) {
  std::string cursor;
  {
    std::lock_guard lock(mutex_);
    cursor = claim_cursor_;
  }
  std::string count = std::to_string(entries_for(max));
  auto reply = client_.command({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer,
                                claim_idle_text_, cursor, "COUNT", count});
  // No group yet (or the server lost it): nothing pending; read_new() creates it.
  if (!reply && is_redis_error(reply.error(), "NOGROUP")) return {};
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
  return stash_claimed(std::move(reply->elements[1].elements));
}

Result<void> RedisClickQueue::stash_claimed(std::vector<RedisValue> entries) {
  if (entries.empty()) return {};
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
  if (auto stashed = stash(std::move(deliverable)); !stashed)
    return std::unexpected(stashed.error());
  return {};
}

Result<std::size_t> RedisClickQueue::stash(std::vector<RedisValue> entries) {
  std::vector<Entry> decoded;
  std::vector<RedisValue> undecodable;
  decoded.reserve(entries.size());
  std::size_t largest = 0, clicks = 0;
  for (RedisValue& entry : entries) {
    const std::string* id = stream::id(entry);
    if (id == nullptr) continue;
    stream::Payload payload = stream::payload(entry);
    if (payload.bytes == nullptr) continue;  // deleted (trimmed) while pending: nothing to deliver
    auto events = stream::decode(payload);
    if (!events) {
      undecodable.push_back(std::move(entry));
      continue;
    }
    largest = std::max(largest, events->size());
    clicks += events->size();
    decoded.push_back(Entry{*id, std::move(*events)});
  }
  if (!undecodable.empty()) {
    if (auto moved = dead_letter(undecodable, std::vector<std::int64_t>(undecodable.size(), 1),
                                 "undecodable event");
        !moved)
      return std::unexpected(moved.error());
  }
  if (largest > 0) entry_estimate_ = largest;
  {
    std::lock_guard lock(mutex_);
    for (Entry& entry : decoded) taken_.push_back(std::move(entry));
  }
  return clicks;
}

ClickDelivery RedisClickQueue::take(std::size_t max) {
  ClickDelivery delivery;
  std::vector<Settle> settles;
  std::lock_guard lock(mutex_);
  while (!taken_.empty() && (delivery.events.empty() ||
                             delivery.events.size() + taken_.front().events.size() <= max)) {
    Entry& entry = taken_.front();
    settles.push_back(Settle{std::move(entry.id), entry.events.size()});
    if (delivery.events.empty()) {
      delivery.events = std::move(entry.events);
    } else {
      delivery.events.insert(delivery.events.end(), std::make_move_iterator(entry.events.begin()),
                             std::make_move_iterator(entry.events.end()));
    }
    taken_.pop_front();
  }
  if (settles.empty()) return delivery;
  delivered_.fetch_add(delivery.events.size(), std::memory_order_relaxed);
  delivery.token = next_token_++;
  in_flight_.emplace(delivery.token, std::move(settles));
  return delivery;
}

std::size_t RedisClickQueue::entries_for(std::size_t max) const {
  return std::max<std::size_t>(1, max / std::max<std::size_t>(1, entry_estimate_.load()));
}

Result<void> RedisClickQueue::ack(const ClickDelivery& delivery) {
  std::vector<Settle> entries;
  {
    std::lock_guard lock(mutex_);
    auto found = in_flight_.find(delivery.token);
    if (found == in_flight_.end()) return {};  // already acknowledged
    entries = std::move(found->second);
    in_flight_.erase(found);
  }
  if (auto done = acknowledge(entries); !done) {
    // Still pending in Redis: retried on the next pop; if this process dies first, another
    // worker reclaims and stores them again, which the store absorbs.
    errors_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    failed_acks_.insert(failed_acks_.end(), std::make_move_iterator(entries.begin()),
                        std::make_move_iterator(entries.end()));
    return done;
  }
  return {};
}

void RedisClickQueue::retry_acks() {
  std::vector<Settle> entries;
  {
    std::lock_guard lock(mutex_);
    if (failed_acks_.empty()) return;
    entries.swap(failed_acks_);
  }
  if (!acknowledge(entries)) {
    std::lock_guard lock(mutex_);
    failed_acks_.insert(failed_acks_.end(), std::make_move_iterator(entries.begin()),
                        std::make_move_iterator(entries.end()));
  }
}

RedisArgs RedisClickQueue::settle_command(const std::vector<Settle>& entries,
                                          std::vector<std::string>& numbers) const {
  numbers.clear();
  numbers.reserve(entries.size());
  RedisArgs args{"EVAL", kSettleScript, "2", options_.stream, options_.length_key, options_.group};
  for (const Settle& entry : entries) {
    numbers.push_back(std::to_string(entry.events));
    args.push_back(entry.id);
    args.push_back(numbers.back());
  }
  return args;
}

Result<void> RedisClickQueue::acknowledge(const std::vector<Settle>& entries) {
  std::vector<std::string> numbers;
  auto reply = client_.command(settle_command(entries, numbers));
  if (!reply) return std::unexpected(reply.error());
  if (reply->is_error()) return fail(Errc::internal, "redis: acknowledging: " + reply->str);
  note_length(*reply);
  std::size_t clicks = 0;
  for (const Settle& entry : entries) clicks += entry.events;
  acked_.fetch_add(clicks, std::memory_order_relaxed);
  return {};
}

void RedisClickQueue::nack(ClickDelivery delivery) {
  std::lock_guard lock(mutex_);
  auto found = in_flight_.find(delivery.token);
  if (found == in_flight_.end()) return;
  for (Settle& entry : found->second) retry_.push_back(std::move(entry.id));
  in_flight_.erase(found);
}

std::size_t RedisClickQueue::size() const {
  std::int64_t now = steady_ns();
  std::int64_t checked = length_checked_ns_.load();
  auto refresh_ns = std::chrono::nanoseconds(options_.length_refresh).count();
  if (now - checked >= refresh_ns && length_checked_ns_.compare_exchange_strong(checked, now)) {
    const RedisArgs commands[] = {{"GET", options_.length_key}, {"XLEN", options_.stream}};
    if (auto replies = client_.pipeline(commands))
      length_.store(backlog_clicks((*replies)[1], (*replies)[0]));
  }
  return length_.load();
}

std::size_t RedisClickQueue::backlog_clicks(const RedisValue& entries, const RedisValue& counter) {
  std::size_t in_stream = clamp_count(as_integer(entries).value_or(0));
  if (in_stream == 0) return 0;
  return std::max(clamp_count(as_integer(counter).value_or(0)), in_stream);
}

void RedisClickQueue::note_length(const RedisValue& reply) const {
  if (auto n = as_integer(reply)) length_.store(clamp_count(*n));
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
  for (const auto& [token, entries] : in_flight_)
    for (const Settle& entry : entries) n += entry.events;
  for (const Entry& entry : taken_) n += entry.events.size();
  return n;
}

RedisClickQueueCounters RedisClickQueue::counters() const {
  return {pushed_.load(),    push_failures_.load(), delivered_.load(), acked_.load(),
          reclaimed_.load(), dead_lettered_.load(), errors_.load()};
}

}  // namespace shortener
