// The dead-letter side of RedisClickQueue: moving exhausted entries out of the click stream,
// listing them for an operator, and replaying them.
#include <algorithm>

#include "queue/redis/redis_click_queue.h"
#include "queue/redis/stream_entries.h"

namespace shortener {

Result<void> RedisClickQueue::dead_letter(const std::vector<RedisValue>& entries,
                                          const std::vector<std::int64_t>& deliveries,
                                          std::string_view reason) {
  std::vector<std::string> counts;
  counts.reserve(entries.size());
  for (std::int64_t n : deliveries) counts.push_back(std::to_string(n));
  std::vector<RedisArgs> commands{{"MULTI"}};
  std::vector<Settle> settles;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string* id = stream::id(entries[i]);
    if (id == nullptr) continue;
    stream::Payload payload = stream::payload(entries[i]);
    std::string_view field = payload.bytes ? payload.field : std::string_view("b");
    std::string_view bytes = payload.bytes ? std::string_view(*payload.bytes) : std::string_view();
    // The counter holds the clicks of what decodes; an undecodable entry counts none.
    auto events = stream::decode(payload);
    commands.push_back({"XADD", options_.dead_stream, "MAXLEN", "~", dead_max_length_text_, "*",
                        field, bytes, "origin", *id, "deliveries", counts[i], "reason", reason});
    settles.push_back(Settle{*id, events ? events->size() : 0});
  }
  if (settles.empty()) return {};
  std::vector<std::string> numbers;
  commands.push_back(settle_command(settles, numbers));
  commands.push_back({"EXEC"});
  auto replies = client_.pipeline(commands);
  if (!replies) return std::unexpected(replies.error());
  if (!replies->back().is_array())
    return fail(Errc::internal, "redis: dead-letter transaction failed");
  note_length(replies->back().elements.back());
  dead_lettered_.fetch_add(settles.size(), std::memory_order_relaxed);
  return {};
}

Result<ClickStreamBacklog> RedisClickQueue::backlog() {
  const RedisArgs commands[] = {{"XLEN", options_.stream},
                                {"GET", options_.length_key},
                                {"XPENDING", options_.stream, options_.group},
                                {"XLEN", options_.dead_stream}};
  auto replies = client_.pipeline(commands);
  if (!replies) return std::unexpected(replies.error());
  auto count = [](const RedisValue& value) {
    return static_cast<std::size_t>(std::max(as_integer(value).value_or(0), 0LL));
  };
  ClickStreamBacklog backlog{.length = backlog_clicks((*replies)[0], (*replies)[1]),
                             .entries = count((*replies)[0]),
                             .dead = count((*replies)[3])};
  // XPENDING's summary form: [count, first id, last id, [[consumer, count], ...]]; an error
  // reply (no group yet) means nothing is pending.
  const RedisValue& pending = (*replies)[2];
  if (pending.type == RedisValue::Type::array && !pending.elements.empty())
    backlog.pending = count(pending.elements[0]);
  length_.store(backlog.length);
  return backlog;
}

Result<std::vector<DeadLetter>> RedisClickQueue::dead_letters(std::size_t max,
                                                              std::string_view after) {
  // "(" makes the start exclusive: the page after the last id seen.
  std::string start = after.empty() ? "-" : "(" + std::string(after);
  std::string count = std::to_string(max);
  auto reply = client_.command({"XRANGE", options_.dead_stream, start, "+", "COUNT", count});
  if (!reply) return std::unexpected(reply.error());
  std::vector<DeadLetter> letters;
  for (const RedisValue& entry : reply->elements) {
    const std::string* id = stream::id(entry);
    if (id == nullptr) continue;
    DeadLetter letter{.id = *id};
    if (const std::string* origin = stream::field(entry, "origin")) letter.original_id = *origin;
    if (const std::string* reason = stream::field(entry, "reason")) letter.reason = *reason;
    if (const std::string* n = stream::field(entry, "deliveries"))
      letter.deliveries =
          as_integer(RedisValue{.type = RedisValue::Type::string, .str = *n}).value_or(0);
    letter.events = stream::decode(stream::payload(entry));
    letters.push_back(std::move(letter));
  }
  return letters;
}

Result<std::size_t> RedisClickQueue::replay_dead_letters(const std::vector<std::string>& ids) {
  if (ids.empty()) return 0;
  std::vector<RedisArgs> reads;
  for (const std::string& id : ids) reads.push_back({"XRANGE", options_.dead_stream, id, id});
  auto found = client_.pipeline(reads);
  if (!found) return std::unexpected(found.error());
  std::vector<RedisArgs> commands{{"MULTI"}};
  RedisArgs xdel{"XDEL", options_.dead_stream};
  std::size_t clicks = 0;
  for (const RedisValue& reply : *found) {
    if (!reply.is_array() || reply.elements.empty()) continue;  // unknown id or replayed already
    const RedisValue& entry = reply.elements[0];
    stream::Payload payload = stream::payload(entry);
    if (payload.bytes == nullptr) continue;
    if (auto events = stream::decode(payload)) clicks += events->size();
    // A fresh entry: delivery count 0, so it gets the full number of attempts again.
    commands.push_back({"XADD", options_.stream, "MAXLEN", "~", max_length_text_, "*",
                        payload.field, *payload.bytes});
    xdel.push_back(*stream::id(entry));
  }
  std::size_t replayed = xdel.size() - 2;
  if (replayed == 0) return 0;
  std::string clicks_text = std::to_string(clicks);
  commands.push_back({"INCRBY", options_.length_key, clicks_text});
  commands.push_back(std::move(xdel));
  commands.push_back({"EXEC"});
  auto replies = client_.pipeline(commands);
  if (!replies) return std::unexpected(replies.error());
  if (!replies->back().is_array()) return fail(Errc::internal, "redis: replay transaction failed");
  return replayed;
}

Result<std::size_t> RedisClickQueue::replay_all_dead_letters(std::size_t max) {
  auto letters = dead_letters(max);
  if (!letters) return std::unexpected(letters.error());
  std::vector<std::string> ids;
  for (const DeadLetter& letter : *letters) ids.push_back(letter.id);
  return replay_dead_letters(ids);
}

}  // namespace shortener
