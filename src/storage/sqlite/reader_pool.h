// A fixed pool of read-only connections to one database file, each with the statements it
// prepared once at open. A call borrows a reader (a Lease) for the duration of its statements;
// the pool's lock is held only to hand a connection over. In WAL mode readers never wait for the
// writer, so calls on N threads read in parallel. Shared by SqliteStore (link lookups) and
// SqliteClickStore (analytics), each with a pool of its own.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "storage/sqlite/connection.h"

namespace shortener::sqlite {

template <class Statements>
class ReaderPool {
 public:
  struct Reader {
    Connection conn;
    Statements st;
  };

  // A reader borrowed for one call; back in the pool when the lease ends.
  class Lease {
   public:
    Lease(ReaderPool& pool, Reader& reader) : pool_(pool), reader_(reader) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.release(reader_); }
    Reader* operator->() const { return &reader_; }

   private:
    ReaderPool& pool_;
    Reader& reader_;
  };

  // Opens `count` query_only connections to `path`; `prepare(conn)` configures each one and
  // returns its statements. Open readers after the migrations, so they see the current schema.
  template <class Prepare>
  static Result<std::unique_ptr<ReaderPool>> open(const std::string& path, int count,
                                                  std::chrono::milliseconds busy_timeout,
                                                  Prepare&& prepare) {
    std::vector<std::unique_ptr<Reader>> readers;
    for (int i = 0; i < count; ++i) {
      auto conn = Connection::open(path, {.query_only = true, .busy_timeout = busy_timeout});
      if (!conn) return std::unexpected(std::move(conn.error()));
      auto statements = prepare(*conn);
      if (!statements) return std::unexpected(std::move(statements.error()));
      readers.push_back(
          std::unique_ptr<Reader>(new Reader{std::move(*conn), std::move(*statements)}));
    }
    return std::make_unique<ReaderPool>(std::move(readers));
  }

  explicit ReaderPool(std::vector<std::unique_ptr<Reader>> readers) : readers_(std::move(readers)) {
    for (auto& reader : readers_) idle_.push_back(reader.get());
  }

  // Waits while every reader is busy; calls are short, so waits are short.
  Lease acquire() {
    std::unique_lock lock(mu_);
    idle_changed_.wait(lock, [this] { return !idle_.empty(); });
    Reader* reader = idle_.back();  // LIFO: the most recently used connection has a warm cache
    idle_.pop_back();
    return Lease(*this, *reader);
  }

 private:
  void release(Reader& reader) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(&reader);
    }
    idle_changed_.notify_one();
  }

  std::vector<std::unique_ptr<Reader>> readers_;
  std::mutex mu_;
  std::condition_variable idle_changed_;
  std::vector<Reader*> idle_;
};

}  // namespace shortener::sqlite
