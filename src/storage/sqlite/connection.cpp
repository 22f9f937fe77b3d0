#include "storage/sqlite/connection.h"

#include <string>
#include <utility>

namespace shortener::sqlite {

Error to_error(int rc, sqlite3* db, std::string_view context) {
  std::string detail(context);
  detail += ": ";
  // The connection's message is more precise (it names the constraint) when it matches rc.
  detail += (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                  : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:  // read-only file or directory: an operator can fix it
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_INTERRUPT:
      return Error{Errc::unavailable, std::move(detail)};
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error{Errc::conflict, std::move(detail)};
      }
      return Error{Errc::internal, std::move(detail)};
    default:
      return Error{Errc::internal, std::move(detail)};
  }
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Query::check_bind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

Query& Query::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Query& Query::bind(int index, std::optional<std::int64_t> value) {
  return value ? bind(index, *value) : bind_null(index);
}

Query& Query::bind(int index, std::string_view value) {
  // A null data pointer would bind NULL, not an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  check_bind(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

Query& Query::bind_blob(int index, std::string_view bytes) {
  // A null pointer would bind NULL, not an empty blob.
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  check_bind(sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC));
  return *this;
}

Query& Query::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Query::step() {
  if (bind_error_ != SQLITE_OK) return std::unexpected(to_error(bind_error_, db_, "bind"));
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(to_error(rc, db_, "step"));
}

Result<void> Query::finish() {
  for (;;) {
    auto row = step();
    if (!row) return std::unexpected(std::move(row.error()));
    if (!*row) return {};
  }
}

std::int64_t Query::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Query::optional_int64(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

std::string Query::text(int column) const {
  // column_text before column_bytes: the documented order that avoids a second conversion.
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string_view Query::blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);  // before column_bytes, as for text
  const int size = sqlite3_column_bytes(stmt_, column);
  return data != nullptr
             ? std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size))
             : std::string_view();
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Result<Connection> Connection::open(const std::string& path, const Options& options) {
  sqlite3* raw = nullptr;
  // NOMUTEX: SQLite's own per-connection mutex is redundant, the store never shares a
  // connection between threads without holding its own lock.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection conn(raw);  // closes `raw` on every early return, even when open failed
  if (rc != SQLITE_OK) {
    return std::unexpected(to_error(rc, raw, "cannot open database " + path));
  }
  sqlite3_extended_result_codes(raw, 1);
  std::string pragmas = "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()) +
                        "; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
  if (options.query_only) pragmas += " PRAGMA query_only = ON;";
  if (auto ok = conn.exec(pragmas, "configure " + path); !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  return conn;
}

Result<void> Connection::exec(std::string_view sql, std::string_view context) {
  const std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(to_error(rc, db_, context));
  return {};
}

Result<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return std::unexpected(to_error(rc, db_, "prepare"));
  }
  return Statement(stmt);
}

Result<Transaction> Transaction::begin(Connection& db) {
  if (auto ok = db.exec("BEGIN IMMEDIATE", "begin transaction"); !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  return Transaction(db);
}

Result<Transaction> Transaction::begin_read(Connection& db) {
  if (auto ok = db.exec("BEGIN", "begin read transaction"); !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  return Transaction(db);
}

Transaction::~Transaction() {
  // ROLLBACK fails only when no transaction is left (SQLite rolls back by itself after some
  // errors, e.g. a full disk), so its result carries no news.
  if (db_ != nullptr) sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<void> Transaction::commit() {
  auto ok = db_->exec("COMMIT", "commit");
  if (ok) db_ = nullptr;
  return ok;
}

}  // namespace shortener::sqlite
