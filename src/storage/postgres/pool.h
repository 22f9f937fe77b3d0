// A fixed-size pool of connections to one database, each prepared once by a setup function
// (session settings and prepared statements). A call borrows a connection (a Lease) for its
// statements; the pool's lock is held only to hand a slot over, never during I/O.
//
// Failures: a connection the server closed (restart, failover, pg_terminate_backend) is
// noticed when it is next borrowed, or by the statement that fails on it (Errc::unavailable);
// either way the slot is reconnected, and set up again, by the next acquire(). While the server
// is down every acquire() fails fast with Errc::unavailable (refused connections return at once;
// an unreachable host waits out connect_timeout).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "storage/postgres/connection.h"

namespace shortener::pg {

class Pool {
 public:
  using Setup = std::function<Result<void>(Connection&)>;

  struct Slot {
    std::optional<Connection> conn;
  };

  // One borrowed connection; back in the pool when the lease ends.
  class Lease {
   public:
    Lease(Pool* pool, Slot* slot) : pool_(pool), slot_(slot) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), slot_(std::exchange(other.slot_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->release(*slot_);
    }
    Connection& operator*() const { return *slot_->conn; }
    Connection* operator->() const { return &*slot_->conn; }

   private:
    Pool* pool_;
    Slot* slot_;
  };

  // Opens all `size` connections now (clamped to 1..64), so a wrong URL, a server that is down
  // or a database that was never migrated fails at start-up rather than at the first request.
  static Result<std::unique_ptr<Pool>> open(std::string url, ConnectOptions options, int size,
                                            Setup setup);
  Pool(std::string url, ConnectOptions options, int size, Setup setup);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits while every connection is lent out (calls are bounded by statement_timeout).
  // Errc::unavailable when the slot it got needs a new connection and none can be made.
  Result<Lease> acquire();

 private:
  Result<void> connect(Slot& slot);
  void release(Slot& slot);

  const std::string url_;
  const ConnectOptions options_;
  const Setup setup_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex mu_;
  std::condition_variable idle_changed_;
  std::vector<Slot*> idle_;
};

}  // namespace shortener::pg
