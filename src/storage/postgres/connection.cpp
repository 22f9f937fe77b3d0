#include "storage/postgres/connection.h"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace shortener::pg {
namespace {

// Errors worth retrying: the server is gone, starting, shutting down, out of resources, a
// standby after a failover, or this transaction lost a race (deadlock, serialisation) or timed
// out. Checked by SQLSTATE class or code.
bool transient(std::string_view state) {
  static constexpr std::string_view kClasses[] = {"08", "53", "57"};
  static constexpr std::string_view kCodes[] = {"40001", "40P01", "55P03", "25006"};
  for (std::string_view c : kClasses)
    if (state.starts_with(c)) return true;
  return std::find(std::begin(kCodes), std::end(kCodes), state) != std::end(kCodes);
}

std::string trimmed(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// SQLSTATE 23505 (unique violation) -> conflict; transient() -> unavailable; class 22 (bad
// data, e.g. invalid UTF-8) -> invalid_input; anything else, including other constraint
// violations, -> internal. No SQLSTATE at all means libpq lost the connection.
Error to_error(PGconn* conn, const PGresult* result, std::string_view context) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view code = state != nullptr ? state : "";
  std::string message =
      trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  if (message.empty()) message = trimmed(PQerrorMessage(conn));
  Errc errc = Errc::internal;
  if (code == "23505") {
    errc = Errc::conflict;
  } else if (transient(code) || (code.empty() && PQstatus(conn) != CONNECTION_OK)) {
    errc = Errc::unavailable;
  } else if (code.starts_with("22")) {
    errc = Errc::invalid_input;
  }
  Error error{errc, std::string(context) + ": " + message};
  if (errc == Errc::unavailable) error.retry_after_s = 1;
  return error;
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

std::string redact_password(std::string text, std::string_view url) {
  // As libpq reads it: user[:password]@ ends at the first '@' before any '/'.
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return text;
  auto start = scheme_end + 3;
  auto end = url.find_first_of("@/", start);
  if (end == std::string_view::npos || url[end] != '@') return text;
  auto colon = url.substr(start, end - start).find(':');
  if (colon == std::string_view::npos) return text;
  auto password = url.substr(start + colon + 1, end - start - colon - 1);
  if (password.empty()) return text;
  std::string redacted =
      std::string(url.substr(0, start + colon + 1)) + "***" + std::string(url.substr(end));
  const std::string quoted = "\"" + std::string(password) + "\"";
  for (auto [from, to] :
       {std::pair<std::string_view, std::string_view>{url, redacted}, {quoted, "\"***\""}}) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  }
  return text;
}

std::string_view PgResult::text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return {value, static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::int64_t PgResult::int64(int row, int column) const {
  const std::string_view value = text(row, column);
  std::int64_t out = 0;
  std::from_chars(value.data(), value.data() + value.size(), out);
  return out;
}

std::optional<std::int64_t> PgResult::optional_int64(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return int64(row, column);
}

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(n, n + std::strlen(n), out);
  return out;
}

Params& Params::add(std::string_view value) {
  values_.emplace_back(std::string(value));
  return *this;
}

Params& Params::add(std::string&& value) {
  values_.emplace_back(std::move(value));
  return *this;
}

Params& Params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add(bool value) {
  values_.emplace_back(value ? "t" : "f");
  return *this;
}

Params& Params::add(const std::optional<std::int64_t>& value) {
  return value ? add(*value) : null();
}

Params& Params::null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& value : values_) out.push_back(value ? value->c_str() : nullptr);
  return out;
}

Result<Connection> Connection::open(const std::string& url, const ConnectOptions& options) {
  if (!is_postgres_url(url)) return fail(Errc::invalid_input, "not a postgres:// URL");
  const auto seconds = std::max<std::int64_t>(
      2, (options.connect_timeout.count() + 999) / 1000);  // libpq's minimum is 2 s
  const std::string timeout = std::to_string(seconds);
  // Defaults first, the URL last: whatever the URL sets wins (libpq keeps the last value).
  // Keepalives notice a peer that vanished without closing (a crashed host) within ~1 min.
  const char* const keys[] = {
      "connect_timeout",     "application_name", "client_encoding", "keepalives_idle",
      "keepalives_interval", "keepalives_count", "dbname",          nullptr};
  const char* const values[] = {
      timeout.c_str(), options.application_name.c_str(), "UTF8", "30", "10", "3", url.c_str(),
      nullptr};
  Connection conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (conn.get() == nullptr) return fail(Errc::internal, "libpq: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    Error error{Errc::unavailable, "cannot connect to PostgreSQL: " +
                                       redact_password(trimmed(PQerrorMessage(conn.get())), url)};
    error.retry_after_s = 1;
    return std::unexpected(std::move(error));
  }
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);  // e.g. "already exists, skipping"
  const std::string set_timeout =
      "SET statement_timeout = " + std::to_string(options.statement_timeout.count());
  if (auto ok = conn.exec(set_timeout, "configure connection"); !ok) return propagate(ok);
  return conn;
}

Result<PgResult> Connection::check(PGresult* raw, std::string_view context) {
  PgResult result(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return std::unexpected(to_error(conn_.get(), raw, context));
}

Result<PgResult> Connection::exec(std::string_view sql, std::string_view context) {
  const std::string text(sql);
  return check(PQexec(conn_.get(), text.c_str()), context);
}

Result<PgResult> Connection::query(const std::string& sql, const Params& params,
                                   std::string_view context) {
  const auto values = params.pointers();
  return check(PQexecParams(conn_.get(), sql.c_str(), params.size(), nullptr, values.data(),
                            nullptr, nullptr, 0),
               context);
}

Result<PgResult> Connection::run(const char* name, const Params& params, bool binary_results) {
  const auto values = params.pointers();
  return check(PQexecPrepared(conn_.get(), name, params.size(), values.data(), nullptr, nullptr,
                              binary_results ? 1 : 0),
               name);
}

Result<void> Connection::prepare(const char* name, std::string_view sql) {
  const std::string text(sql);
  auto result =
      check(PQprepare(conn_.get(), name, text.c_str(), 0, nullptr), std::string("prepare ") + name);
  if (!result) return propagate(result);
  return {};
}

Result<void> Connection::copy_in(std::string_view sql, std::string_view data) {
  const std::string text(sql);
  PGconn* conn = conn_.get();
  PGresult* start = PQexec(conn, text.c_str());
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
    auto checked = check(start, "copy");  // takes the result
    if (!checked) return propagate(checked);
    return fail(Errc::internal, "copy: the server did not start a COPY FROM STDIN");
  }
  PQclear(start);
  // Blocking connection: each call returns once libpq has queued (or sent) the bytes. A failure
  // here means the connection broke; the result below says how.
  constexpr std::size_t kChunk = 1 << 20;
  bool sent = true;
  for (std::size_t at = 0; sent && at < data.size(); at += kChunk) {
    const std::string_view part = data.substr(at, kChunk);
    sent = PQputCopyData(conn, part.data(), static_cast<int>(part.size())) == 1;
  }
  if (PQputCopyEnd(conn, sent ? nullptr : "client failed to send the data") != 1) sent = false;
  auto done = check(PQgetResult(conn), "copy");
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  if (!done) return propagate(done);
  if (!sent) return fail(Errc::unavailable, "copy: " + trimmed(PQerrorMessage(conn)));
  return {};
}

bool Connection::usable() {
  PGconn* conn = conn_.get();
  // An idle connection has nothing to read unless the server spoke first: a FATAL "terminating
  // connection" followed by EOF, or a notice. Consume it; libpq marks the connection bad on EOF.
  for (int i = 0; i < 4 && PQstatus(conn) == CONNECTION_OK; ++i) {
    pollfd fd{PQsocket(conn), POLLIN, 0};
    if (fd.fd < 0) return false;
    if (poll(&fd, 1, 0) <= 0) break;
    if (PQconsumeInput(conn) == 0) return false;
    while (PGnotify* notify = PQnotifies(conn)) PQfreemem(notify);
  }
  return PQstatus(conn) == CONNECTION_OK;
}

Result<Transaction> Transaction::begin(Connection& db, std::string_view begin) {
  if (auto ok = db.exec(begin, "begin transaction"); !ok) return propagate(ok);
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK", "rollback");  // best effort
}

Result<void> Transaction::commit() {
  Connection* db = std::exchange(db_, nullptr);
  if (auto ok = db->exec("COMMIT", "commit"); !ok) return propagate(ok);
  return {};
}

}  // namespace shortener::pg
