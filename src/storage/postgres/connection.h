// Thin RAII layer over libpq: a connection, a result, text-format parameters, a transaction.
// Every failure becomes a domain Error through to_error(), so the rest of the adapter never
// looks at SQLSTATEs or connection states.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace shortener::pg {

// true for postgres:// and postgresql:// URLs (the only form the adapter opens).
bool is_postgres_url(std::string_view url);

// `text` with the password of `url` masked: the URL itself becomes postgres://user:***@...,
// a quoted password becomes "***". libpq quotes a malformed URL, or its malformed password, in
// its error messages, and those end up on stderr.
std::string redact_password(std::string text, std::string_view url);

// A query's result; rows and columns are read as text (every parameter and result uses the
// text format: ints and booleans parse in nanoseconds, and the SQL stays readable).
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view text(int row, int column) const;
  std::int64_t int64(int row, int column) const;  // 0 for NULL or garbage (never expected)
  std::optional<std::int64_t> optional_int64(int row, int column) const;
  bool boolean(int row, int column) const { return text(row, column) == "t"; }
  // Rows an INSERT/UPDATE/DELETE touched.
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// Positional parameters ($1, $2, ...) in text format; null() is SQL NULL. The values are owned
// here, so a Params may be built in one function and run in another.
class Params {
 public:
  Params& add(std::string_view value);
  Params& add(const char* value) { return add(std::string_view(value)); }
  Params& add(std::string&& value);
  Params& add(std::int64_t value);
  Params& add(bool value);
  Params& add(const std::optional<std::int64_t>& value);
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers for libpq; valid until the next add().
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

struct ConnectOptions {
  // Bounds a connection attempt (libpq counts whole seconds, at least 2).
  std::chrono::milliseconds connect_timeout{5000};
  // Set on every connection: no statement (and so no call) holds a pooled connection longer.
  std::chrono::milliseconds statement_timeout{30000};
  std::string application_name = "shortener";
};

// One server connection. Not thread-safe: the owner (a pool lease) has it alone.
class Connection {
 public:
  // Errc::invalid_input for a URL that is not postgres://; Errc::unavailable when the server
  // cannot be reached or refuses the login.
  static Result<Connection> open(const std::string& url, const ConnectOptions& options);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  PGconn* get() const { return conn_.get(); }
  // One or more statements in the simple protocol (no parameters), e.g. DDL or BEGIN.
  Result<PgResult> exec(std::string_view sql, std::string_view context);
  // A one-off parameterised statement (migrations, partition maintenance, tests).
  Result<PgResult> query(const std::string& sql, const Params& params, std::string_view context);
  // A statement this connection prepared under `name`. With binary_results, columns come back
  // in binary format (used for bytea, which is then the raw bytes instead of hex).
  Result<PgResult> run(const char* name, const Params& params, bool binary_results = false);
  Result<void> prepare(const char* name, std::string_view sql);
  // COPY ... FROM STDIN with `data` as the whole of its input (e.g. binary format: header,
  // tuples, trailer). A unique violation is Errc::conflict, like any statement's.
  Result<void> copy_in(std::string_view sql, std::string_view data);

  // false once the server closed the connection or a call saw it fail; a pool reconnects then.
  // Also notices, without blocking, a server that went away while the connection sat idle.
  bool usable();
  // Idle and outside any transaction: safe to hand to the next caller.
  bool idle() const { return PQtransactionStatus(conn_.get()) == PQTRANS_IDLE; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn, PQfinish) {}
  Result<PgResult> check(PGresult* result, std::string_view context);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
};

// BEGIN ... COMMIT, rolled back by the destructor unless committed.
class Transaction {
 public:
  // `begin` is the BEGIN statement, e.g. "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY".
  static Result<Transaction> begin(Connection& db, std::string_view begin = "BEGIN");
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

template <class T>
std::unexpected<Error> propagate(Result<T>& failed) {
  return std::unexpected(std::move(failed.error()));
}

}  // namespace shortener::pg
