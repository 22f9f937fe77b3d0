// The dead-letter side of RedisClickQueue: moving exhausted entries out of the click stream,
// listing them for an operator, and replaying them.
#include <algorithm>

#include "queue/redis/click_codec.h"
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
  RedisArgs xack{"XACK", options_.stream, options_.group};
  RedisArgs xdel{"XDEL", options_.stream};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string* id = stream::id(entries[i]);
    const std::string* payload = stream::field(entries[i], "e");
    if (id == nullptr) continue;
    commands.push_back({"XADD", options_.dead_stream, "MAXLEN", "~", dead_max_length_text_, "*",
                        "e", payload ? std::string_view(*payload) : std::string_view(), "origin",
                        *id, "deliveries", counts[i], "reason", reason});
    xack.push_back(*id);
    xdel.push_back(*id);
  }
  if (xack.size() == 3) return {};
  commands.push_back(std::move(xack));
  commands.push_back(std::move(xdel));
  commands.push_back({"EXEC"});
  auto replies = client_.pipeline(commands);
  if (!replies) return std::unexpected(replies.error());
  if (!replies->back().is_array())
    return fail(Errc::internal, "redis: dead-letter transaction failed");
  dead_lettered_.fetch_add(commands.size() - 4, std::memory_order_relaxed);
  return {};
}

Result<ClickStreamBacklog> RedisClickQueue::backlog() {
  const RedisArgs commands[] = {{"XLEN", options_.stream},
                                {"XPENDING", options_.stream, options_.group},
                                {"XLEN", options_.dead_stream}};
  auto replies = client_.pipeline(commands);
  if (!replies) return std::unexpected(replies.error());
  auto count = [](const RedisValue& value) {
    return static_cast<std::size_t>(std::max(as_integer(value).value_or(0), 0LL));
  };
  ClickStreamBacklog backlog{.length = count((*replies)[0]), .dead = count((*replies)[2])};
  // XPENDING's summary form: [count, first id, last id, [[consumer, count], ...]]; an error
  // reply (no group yet) means nothing is pending.
  const RedisValue& pending = (*replies)[1];
  if (pending.type == RedisValue::Type::array && !pending.elements.empty())
    backlog.pending = count(pending.elements[0]);
  note_length((*replies)[0]);
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
    if (const std::string* payload = stream::field(entry, "e"))
      letter.event = decode_click_event(*payload);
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
  for (const RedisValue& reply : *found) {
    if (!reply.is_array() || reply.elements.empty()) continue;  // unknown id or replayed already
    const RedisValue& entry = reply.elements[0];
    const std::string* payload = stream::field(entry, "e");
    if (payload == nullptr) continue;
    // A fresh entry: delivery count 0, so it gets the full number of attempts again.
    commands.push_back(
        {"XADD", options_.stream, "MAXLEN", "~", max_length_text_, "*", "e", *payload});
    xdel.push_back(*stream::id(entry));
  }
  std::size_t replayed = xdel.size() - 2;
  if (replayed == 0) return 0;
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
