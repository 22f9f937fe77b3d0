// Thin RAII layer over the SQLite C API: a connection, a prepared statement, and one use of a
// statement (Query). Every failure becomes a domain Error through to_error(), so the rest of
// the adapter never looks at raw result codes.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace shortener::sqlite {

// BUSY/LOCKED/IO/full disk/cannot open -> unavailable (retry later); UNIQUE or PRIMARY KEY
// violation -> conflict; everything else (other constraints, misuse, corruption) -> internal.
Error to_error(int rc, sqlite3* db, std::string_view context);

// A prepared statement, prepared once and reused for the connection's lifetime.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One execution of a Statement: bind, step, read columns. The destructor resets the statement
// and clears its bindings, which also ends the read snapshot it held, so the next use of the
// connection sees the latest commit. Text is bound without copying: bound views must outlive
// the Query (they always do: the Query lives in the calling function's scope).
class Query {
 public:
  Query(const Statement& statement, sqlite3* db) : stmt_(statement.get()), db_(db) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Query& bind(int index, std::int64_t value);
  Query& bind(int index, std::optional<std::int64_t> value);
  Query& bind(int index, std::string_view value);
  Query& bind_blob(int index, std::string_view bytes);  // bound without copying, like text
  Query& bind_null(int index);

  // true: a row is ready; false: done. Reports the first bind error, if any.
  Result<bool> step();
  // Steps to the end; for statements whose rows are not needed (or already read).
  Result<void> finish();

  std::int64_t int64(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  std::string text(int column) const;
  // Valid until the next step() or the end of the Query.
  std::string_view blob(int column) const;

 private:
  void check_bind(int rc);

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_error_ = SQLITE_OK;
};

// One database connection. Not thread-safe: the owner guarantees one user at a time.
class Connection {
 public:
  struct Options {
    bool query_only = false;  // readers: refuse writes even by mistake
    std::chrono::milliseconds busy_timeout{5000};
  };

  // Opens (creating the file if needed) and applies the per-connection pragmas.
  static Result<Connection> open(const std::string& path, const Options& options);

  Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { sqlite3_close_v2(db_); }

  sqlite3* get() const { return db_; }
  // Runs one or more statements that return no rows worth reading.
  Result<void> exec(std::string_view sql, std::string_view context);
  // Prepared with SQLITE_PREPARE_PERSISTENT: these statements live as long as the connection.
  Result<Statement> prepare(std::string_view sql);

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back by the destructor unless committed. IMMEDIATE takes
// the write lock up front, so a busy database waits out busy_timeout instead of failing later
// when a read transaction tries to upgrade. Only for rare multi-statement writes (accounts,
// migrations): BEGIN/COMMIT are plain exec()s, not worth caching as statements.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& db);
  // Plain (deferred) BEGIN, for a reader that wants one snapshot across several statements;
  // it takes no write lock. Never on the writer: it could not upgrade without risking BUSY.
  static Result<Transaction> begin_read(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> commit();

 private:
  explicit Transaction(Connection& db) : db_(&db) {}

  Connection* db_;  // null once committed or moved from
};

}  // namespace shortener::sqlite
