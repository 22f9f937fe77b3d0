#include "storage/postgres/pool.h"

#include <algorithm>

namespace shortener::pg {

namespace {
constexpr int kMaxConnections = 64;  // PostgreSQL's default max_connections is 100 in all
}  // namespace

Result<std::unique_ptr<Pool>> Pool::open(std::string url, ConnectOptions options, int size,
                                         Setup setup) {
  auto pool = std::make_unique<Pool>(std::move(url), std::move(options),
                                     std::clamp(size, 1, kMaxConnections), std::move(setup));
  for (auto& slot : pool->slots_)
    if (auto ok = pool->connect(*slot); !ok) return propagate(ok);
  return pool;
}

Pool::Pool(std::string url, ConnectOptions options, int size, Setup setup)
    : url_(std::move(url)), options_(std::move(options)), setup_(std::move(setup)) {
  for (int i = 0; i < size; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    idle_.push_back(slots_.back().get());
  }
}

Result<void> Pool::connect(Slot& slot) {
  slot.conn.reset();
  auto conn = Connection::open(url_, options_);
  if (!conn) return propagate(conn);
  if (auto ok = setup_(*conn); !ok) return ok;
  slot.conn.emplace(std::move(*conn));
  return {};
}

Result<Pool::Lease> Pool::acquire() {
  Slot* slot = nullptr;
  {
    std::unique_lock lock(mu_);
    idle_changed_.wait(lock, [this] { return !idle_.empty(); });
    slot = idle_.back();  // LIFO: the most recently used connection stays warm
    idle_.pop_back();
  }
  Lease lease(this, slot);
  if (!slot->conn || !slot->conn->usable()) {
    if (auto ok = connect(*slot); !ok) return propagate(ok);  // the lease returns the slot
  }
  return lease;
}

void Pool::release(Slot& slot) {
  // A connection left inside a transaction (its ROLLBACK failed) or broken is closed here, so
  // the next borrower starts from a fresh session.
  if (slot.conn && (!slot.conn->idle() || PQstatus(slot.conn->get()) != CONNECTION_OK))
    slot.conn.reset();
  {
    std::lock_guard lock(mu_);
    idle_.push_back(&slot);
  }
  idle_changed_.notify_one();
}

}  // namespace shortener::pg
