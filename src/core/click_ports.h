// Ports of the click pipeline:
//   redirect --offer--> ClickSink (bounded, in-process, never blocks)
//            --shipper--> ClickQueue (in-process here; Redis Streams in production)
//            --worker: enrich--> ClickStore (raw clicks + rollups, one transaction)
//                              --> LiveFeed (SSE subscribers; Redis pub/sub in production)
// StatsStore answers analytics queries from the rollups.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/click.h"
#include "core/error.h"

namespace shortener {

// The redirect's hand-off. offer() does no I/O and never blocks; false means the event was
// dropped (buffer full) and the implementation counted it.
class ClickSink {
 public:
  virtual ~ClickSink() = default;
  virtual bool offer(ClickEvent&& event) = 0;
};

// A batch taken from the queue; ack it after its clicks are durably stored.
struct ClickDelivery {
  std::vector<ClickEvent> events;
  std::uint64_t token = 0;  // adapter-specific acknowledgement handle
};

class ClickQueue {
 public:
  virtual ~ClickQueue() = default;
  // Takes the events on success; on failure leaves `events` untouched for a retry.
  virtual Result<void> push(std::vector<ClickEvent>&& events) = 0;
  // Up to `max` events, waiting at most `wait` for the first one. Empty when none came or
  // the queue is closed and drained. A queue that keeps pushed events in batches (Redis: one
  // stream entry per batch) delivers and acknowledges whole batches, so a delivery exceeds
  // `max` when one batch alone holds more.
  virtual Result<ClickDelivery> pop(std::size_t max, std::chrono::milliseconds wait) = 0;
  virtual Result<void> ack(const ClickDelivery& delivery) = 0;
  // Puts an unacknowledged delivery back (the store failed; retry later).
  virtual void nack(ClickDelivery delivery) = 0;
  virtual std::size_t size() const = 0;
};

struct WriteResult {
  std::size_t inserted = 0;    // new events
  std::size_t duplicates = 0;  // already stored: skipped, rollups untouched
};

// Durable analytics writes. write() is idempotent per event id and atomic per call; it sets
// `unique` on each new click and removes already-stored events from `clicks`, so the caller
// publishes exactly the newly stored ones.
class ClickStore {
 public:
  virtual ~ClickStore() = default;
  virtual Result<WriteResult> write(std::vector<EnrichedClick>& clicks) = 0;
  // Retention: raw clicks older than raw_before and minute rollups older than minutes_before.
  virtual Result<void> prune(TimeUs raw_before, TimeUs minutes_before) = 0;
};

enum class Interval { minute, hour, day };
inline constexpr std::int64_t interval_us(Interval i) {
  return i == Interval::minute ? 60'000'000LL
         : i == Interval::hour ? 3'600'000'000LL
                               : 86'400'000'000LL;
}

struct StatsQuery {
  std::vector<std::int64_t> link_ids;  // one link, or every link of an account
  TimeUs from = 0;                     // inclusive, aligned down to the interval
  TimeUs to = 0;                       // exclusive
  Interval interval = Interval::hour;
  bool include_bots = false;
  std::size_t top = 10;  // entries per dimension
};

struct Bucket {
  TimeUs t = 0;
  std::int64_t clicks = 0;
  std::int64_t unique = 0;
};

struct Count {
  std::string key;
  std::int64_t clicks = 0;
};

struct Stats {
  std::int64_t total = 0;
  std::int64_t unique = 0;         // sum of daily unique visitors over the range
  std::int64_t bots = 0;           // bot clicks in the range (always reported)
  std::vector<Bucket> timeseries;  // every bucket of the range, zero-filled
  std::vector<Count> countries, cities, referrers, devices, browsers, os;
  std::vector<std::pair<std::int64_t, std::int64_t>> top_links;  // link id, clicks
};

class StatsStore {
 public:
  virtual ~StatsStore() = default;
  virtual Result<Stats> stats(const StatsQuery& query) = 0;
  // Streams raw clicks of a link, oldest first, to `row`; stops early when it returns false.
  virtual Result<void> export_clicks(std::int64_t link_id, TimeUs from, TimeUs to,
                                     const std::function<bool(const EnrichedClick&)>& row) = 0;
};

// Real-time fan-out of stored clicks to subscribers (SSE connections).
class LiveSubscription {
 public:
  virtual ~LiveSubscription() = default;
  // Events waiting for this subscriber, in order; empty when none.
  virtual std::vector<std::shared_ptr<const EnrichedClick>> drain() = 0;
  // The feed dropped this subscriber (it fell too far behind).
  virtual bool dropped() const = 0;
};

// Which clicks a subscriber sees: one link, one account's links, or everything (admin).
struct LiveFilter {
  std::optional<std::int64_t> link_id;
  std::optional<std::int64_t> account_id;
  bool matches(const EnrichedClick& click) const {
    return (!link_id || click.link_id == *link_id) &&
           (!account_id || click.account_id == *account_id);
  }
};

class LiveFeed {
 public:
  virtual ~LiveFeed() = default;
  virtual void publish(const std::vector<EnrichedClick>& clicks) = 0;
  // `wake` is called (from any thread) when events arrive; it must be cheap and must not call
  // back into the feed. With `last_event_id` (SSE Last-Event-ID), recent events after it are
  // delivered first, as far back as the feed remembers.
  virtual std::unique_ptr<LiveSubscription> subscribe(LiveFilter filter, std::function<void()> wake,
                                                      std::string_view last_event_id = {}) = 0;
};

}  // namespace shortener
