// ClickQueue on a Redis stream, shared by every serve replica (producers) and every worker
// process (consumers, one consumer group). An entry holds a batch of up to entry_events clicks
// (field "b"; one shipped batch is one or a few entries), so Redis works per batch, not per
// click. The stream's backlog in clicks is a counter beside it (length_key).
//
//   push  -> MULTI; XADD clicks MAXLEN ~ max * b <batch> (one per entry_events clicks);
//            INCRBY clicks:length n; XLEN; EXEC. All or nothing: on failure the caller keeps
//            the events (the shipper retries or spools them). Refused while the backlog is at
//            max_length clicks, so trimming, which would drop unacknowledged entries, is a
//            last-resort memory guard and not the bound.
//   pop   -> whole entries, up to `max` clicks (more only when one entry alone holds more):
//            first what an earlier read took beyond `max`, then this consumer's nacked entries
//            (XCLAIM to itself), then, every reclaim_interval, entries idle longer than
//            claim_idle in any consumer (XAUTOCLAIM: their worker died), then new entries
//            (XREADGROUP ... BLOCK wait ... >). How many entries to ask for comes from the
//            largest entry of the last read.
//   ack   -> one script, after the caller committed: per entry XACK, and if that acknowledged
//            it (another consumer may have, after reclaiming it), XDEL and subtract its clicks
//            from the counter; the counter is reset when the stream is empty.
//   nack  -> the entries stay pending; this consumer claims them again on its next pop.
//
// Every claim increments the entry's delivery count; an entry claimed with a count above
// max_deliveries is not delivered but moved to the dead-letter stream (XADD clicks:dead + the
// ack script, one transaction), where dead_letters() lists and replay_dead_letters() re-queues
// it. Delivery is at least once: a worker that dies after committing but before XACK gets its
// batch processed again elsewhere, which the idempotent ClickStore absorbs. Entries of field
// "e" (one click each, as earlier versions wrote them) are still read.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/click_ports.h"
#include "redis/redis_client.h"

namespace shortener {

struct RedisClickQueueOptions {
  std::string stream = "clicks";
  std::string group = "workers";
  std::string dead_stream = "clicks:dead";
  std::string length_key = "clicks:length";  // clicks in the stream (queued and in flight)
  std::string consumer;  // this process's name in the group; empty: <hostname>-<pid>
  // push() refuses at this many clicks (~250 B each: 10 M ≈ 2.5 GB); MAXLEN ~ trims the
  // stream beyond this many entries.
  std::size_t max_length = 10'000'000;
  std::size_t alarm_length = 1'000'000;     // over_alarm() above this backlog (clicks)
  std::size_t dead_max_length = 1'000'000;  // entries
  std::size_t entry_events = 128;           // clicks per stream entry (at most)
  std::size_t push_chunk = 5'000;  // clicks per transaction: bounds one MULTI's time in Redis
  // Pending longer than this: the consumer is presumed dead. Above a batch's worst-case store
  // time, or live workers' batches get processed twice.
  std::chrono::milliseconds claim_idle{60'000};
  std::chrono::milliseconds reclaim_interval{5'000};  // how often pop() looks for such entries
  int max_deliveries = 5;                             // failed deliveries before dead-lettering
  std::chrono::milliseconds length_refresh{250};      // size() asks Redis at most this often
};

// One dead-lettered stream entry: the clicks of one batch.
struct DeadLetter {
  std::string id;           // in the dead-letter stream
  std::string original_id;  // in the click stream
  std::int64_t deliveries = 0;
  std::string reason;
  std::optional<std::vector<ClickEvent>> events;  // nullopt: the payload could not be decoded
};

struct RedisClickQueueCounters {
  std::uint64_t pushed = 0, push_failures = 0;     // clicks; push() calls
  std::uint64_t delivered = 0, acked = 0;          // clicks
  std::uint64_t reclaimed = 0, dead_lettered = 0;  // entries
  std::uint64_t errors = 0;                        // failed Redis calls in pop/ack
};

// What the stream holds right now (one pipelined round trip).
struct ClickStreamBacklog {
  std::size_t length = 0;   // clicks in the stream: not yet delivered, or delivered and unacked
  std::size_t entries = 0;  // stream entries holding them
  std::size_t pending = 0;  // entries delivered to a consumer and not acknowledged
  std::size_t dead = 0;     // entries in the dead-letter stream
};

class RedisClickQueue final : public ClickQueue {
 public:
  RedisClickQueue(RedisClient& client, RedisClickQueueOptions options = {});

  // XGROUP CREATE ... MKSTREAM, tolerating BUSYGROUP. pop() also calls it on NOGROUP (a server
  // that lost its data), so start-up may go on without Redis.
  Result<void> ensure_group();

  Result<void> push(std::vector<ClickEvent>&& events) override;
  // A failed pop takes its full `wait` before answering, so a worker loop does not spin while
  // Redis is down.
  Result<ClickDelivery> pop(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(const ClickDelivery& delivery) override;
  void nack(ClickDelivery delivery) override;
  // The stream's backlog in clicks, at most length_refresh old; the last known value while
  // Redis is down.
  std::size_t size() const override;

  // Shutdown: pop() stops waiting for and claiming new entries and answers empty at once;
  // ack() keeps working, so a worker finishes and acknowledges its batch and exits.
  void close();
  // Clicks Redis delivered to this instance and not yet acked or nacked, including those a
  // read took beyond `max` (the next pop() hands them out, even after close()).
  std::size_t in_flight() const;
  // After close() and the last ack: removes this consumer from the group if it holds no
  // pending entries (one that does stays, so XAUTOCLAIM can take its entries over). Returns
  // whether it left. Keeps the group's consumer list from growing with every restart.
  Result<bool> leave();
  bool over_alarm() const { return size() > options_.alarm_length; }
  RedisClickQueueCounters counters() const;

  Result<ClickStreamBacklog> backlog();

  // Dead letters, oldest first, after `after` (a dead-letter id; empty: from the start).
  Result<std::vector<DeadLetter>> dead_letters(std::size_t max, std::string_view after = {});
  // Moves the given dead letters back into the click stream; returns how many were found.
  Result<std::size_t> replay_dead_letters(const std::vector<std::string>& ids);
  Result<std::size_t> replay_all_dead_letters(std::size_t max);

 private:
  // A decoded entry, delivered (in_flight_) or waiting for the next pop (taken_).
  struct Entry {
    std::string id;
    std::vector<ClickEvent> events;
  };
  // What the ack script needs of an entry: its id and how many clicks the counter holds for it.
  struct Settle {
    std::string id;
    std::size_t events = 0;
  };

  // These read entries into taken_; pop() hands them out with take().
  Result<void> read_new(std::size_t max, std::chrono::milliseconds wait);
  Result<void> redeliver(std::size_t max);
  Result<void> reclaim_idle(std::size_t max);
  // Entries are stream entries as Redis returns them: [id, [field, value, ...]]. Claimed ones
  // first go to the dead-letter stream if delivered too often; undecodable ones always do.
  // stash() answers how many clicks it added.
  Result<void> stash_claimed(std::vector<RedisValue> entries);
  Result<std::size_t> stash(std::vector<RedisValue> entries);
  ClickDelivery take(std::size_t max);  // whole entries from taken_
  std::size_t entries_for(std::size_t max) const;
  Result<void> dead_letter(const std::vector<RedisValue>& entries,
                           const std::vector<std::int64_t>& deliveries, std::string_view reason);
  bool reclaim_due();
  void retry_acks();
  Result<void> acknowledge(const std::vector<Settle>& entries);
  // The ack script's command for these entries; `numbers` keeps the counts' text alive.
  RedisArgs settle_command(const std::vector<Settle>& entries,
                           std::vector<std::string>& numbers) const;
  void note_length(const RedisValue& reply) const;
  // The backlog in clicks from XLEN's and the counter's replies, as the ack script answers it:
  // none in an empty stream, else the counter with the stream's length as its floor.
  static std::size_t backlog_clicks(const RedisValue& entries, const RedisValue& counter);
  Result<ClickDelivery> failed(Error error, std::chrono::milliseconds wait);

  RedisClient& client_;
  RedisClickQueueOptions options_;
  std::string max_length_text_, dead_max_length_text_, claim_idle_text_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::vector<Settle>> in_flight_;  // token -> its entries
  std::deque<Entry> taken_;          // read beyond a pop's `max`: the next pops deliver them
  std::deque<std::string> retry_;    // nacked ids, claimed again by the next pop
  std::vector<Settle> failed_acks_;  // acked by the caller, the script failed: retried
  std::uint64_t next_token_ = 1;
  std::string claim_cursor_ = "0-0";
  std::chrono::steady_clock::time_point next_reclaim_{};
  std::atomic<bool> reclaiming_{false};
  std::atomic<bool> closed_{false};
  // Clicks in the largest entry of the last read: pop(max) asks for max / this many entries.
  std::atomic<std::size_t> entry_estimate_;
  mutable std::atomic<std::size_t> length_{0};
  mutable std::atomic<std::int64_t> length_checked_ns_{0};
  std::atomic<std::uint64_t> pushed_{0}, push_failures_{0}, delivered_{0}, acked_{0}, reclaimed_{0},
      dead_lettered_{0}, errors_{0};
};

}  // namespace shortener
