// ClickQueue decorator for a serve replica's shipper in front of RedisClickQueue: when the
// inner queue refuses a push as unavailable (Redis down or restarting), the events go to a
// local append-only file (DATA_DIR/clicks-redis.spool) and the push succeeds; a background
// thread replays the file into the inner queue once it accepts pushes again. Redirects never
// wait on this, and no click is lost across a Redis outage or restart.
//
// Durability: each spooled batch is one checksummed record, fdatasync'd before push() returns,
// so a crash while spooled loses nothing; a torn last record (crash mid-write) is skipped. The
// replay takes the file over by renaming it (new spooling goes to a fresh file), pushes record
// by record and notes its progress in a side file, so a crash mid-replay re-sends at most one
// record, whose duplicates the ClickStore drops by event id.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/click_ports.h"

namespace shortener {

struct SpoolingClickQueueOptions {
  std::chrono::milliseconds replay_interval{1000};  // how often a non-empty spool is retried
};

class SpoolingClickQueue final : public ClickQueue {
 public:
  SpoolingClickQueue(ClickQueue& inner, std::filesystem::path spool_path,
                     SpoolingClickQueueOptions options = {});
  ~SpoolingClickQueue() override;

  void start();  // the replay thread; also picks up a spool left by a previous run
  void stop();   // idempotent; whatever is still spooled stays in the file for the next start

  Result<void> push(std::vector<ClickEvent>&& events) override;
  Result<ClickDelivery> pop(std::size_t max, std::chrono::milliseconds wait) override {
    return inner_.pop(max, wait);
  }
  Result<void> ack(const ClickDelivery& delivery) override { return inner_.ack(delivery); }
  void nack(ClickDelivery delivery) override { inner_.nack(std::move(delivery)); }
  std::size_t size() const override { return inner_.size() + spooled(); }

  std::size_t spooled() const { return spooled_.load(); }  // events in the spool files
  std::uint64_t replayed() const { return replayed_.load(); }
  std::uint64_t corrupt_records() const { return corrupt_.load(); }
  // Replays now, on the caller's thread (tests; the thread does the same every interval).
  void replay_once();

 private:
  Result<void> append(const std::vector<ClickEvent>& events);
  bool replay_file(const std::filesystem::path& file);
  std::filesystem::path replaying_path() const;
  void count_spooled();

  ClickQueue& inner_;
  std::filesystem::path spool_path_;
  SpoolingClickQueueOptions options_;
  std::mutex file_mutex_;  // appends vs. the replay's rename
  std::mutex replay_mutex_;
  std::mutex stop_mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::size_t> spooled_{0};
  std::atomic<std::uint64_t> replayed_{0}, corrupt_{0};
};

// The spool's record format, exposed for tests: [u32 length][u32 FNV-1a][payload], payload =
// varint count + length-prefixed encoded events.
std::string encode_spool_record(const std::vector<ClickEvent>& events);

}  // namespace shortener
