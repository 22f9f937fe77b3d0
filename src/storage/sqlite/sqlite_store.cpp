#include "storage/sqlite/sqlite_store.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/reader_pool.h"
#include "storage/sqlite/sqlite_click_store.h"
#include "storage/sqlite/statements.h"

namespace shortener {

using sqlite::account_column;
using sqlite::Connection;
using sqlite::Query;

namespace {

constexpr int kMaxReaders = 64;
// The service clamps page sizes already; this only stops a careless caller from reading a
// whole table into memory.
constexpr int kMaxListLimit = 1000;

std::unexpected<Error> prefixed(Error error, std::string_view prefix) {
  error.detail = std::string(prefix) + ": " + error.detail;
  return std::unexpected(std::move(error));
}

Result<void> enable_wal(Connection& db) {
  auto stmt = db.prepare("PRAGMA journal_mode = WAL");
  if (!stmt) return std::unexpected(std::move(stmt.error()));
  Query query(*stmt, db.get());
  auto row = query.step();
  if (!row) return std::unexpected(std::move(row.error()));
  const std::string mode = *row ? query.text(0) : std::string();
  if (mode != "wal")
    return fail(Errc::internal, "cannot enable WAL (journal_mode is " + mode + ")");
  return {};
}

}  // namespace

struct SqliteStore::Writer {
  Writer(Connection c, sqlite::WriterStatements s) : conn(std::move(c)), st(std::move(s)) {}

  Connection conn;
  sqlite::WriterStatements st;
  std::mutex mu;  // held for the whole of each write call, statement and all
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteOptions& options) {
  auto conn = Connection::open(path, {.query_only = false, .busy_timeout = options.busy_timeout});
  if (!conn) return std::unexpected(std::move(conn.error()));
  if (auto ok = enable_wal(*conn); !ok) return prefixed(std::move(ok.error()), path);
  if (auto ok = sqlite::migrate(*conn); !ok) return prefixed(std::move(ok.error()), path);
  auto statements = sqlite::prepare_writer(*conn);
  if (!statements) return prefixed(std::move(statements.error()), path);
  auto writer = std::make_shared<Writer>(std::move(*conn), std::move(*statements));

  // Readers open after the migrations, so they prepare against the current schema.
  auto pool = ReaderPool::open(path, std::clamp(options.readers, 1, kMaxReaders),
                               options.busy_timeout, sqlite::prepare_reader);
  if (!pool) return prefixed(std::move(pool.error()), path);
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(writer), std::move(*pool), path, options.busy_timeout));
}

SqliteStore::SqliteStore(std::shared_ptr<Writer> writer, std::unique_ptr<ReaderPool> readers,
                         std::string path, std::chrono::milliseconds busy_timeout)
    : writer_(std::move(writer)),
      readers_(std::move(readers)),
      path_(std::move(path)),
      busy_timeout_(busy_timeout) {}

SqliteStore::~SqliteStore() = default;

Result<Link> SqliteStore::create_link(const NewLink& link) {
  std::lock_guard lock(writer_->mu);
  Query insert(writer_->st.insert_link, writer_->conn.get());
  insert.bind(1, link.slug)
      .bind(2, link.url)
      .bind(3, link.title)
      .bind(4, account_column(link.account_id))
      .bind(5, link.stats_token)
      .bind(6, link.created_at)
      .bind(7, link.expires_at);
  auto row = insert.step();
  if (!row && row.error().code == Errc::conflict) {
    return fail(Errc::conflict, "slug already taken: " + link.slug);
  }
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row) return fail(Errc::internal, "INSERT INTO links returned no id");
  Link created{.id = insert.int64(0),
               .slug = link.slug,
               .url = link.url,
               .title = link.title,
               .account_id = link.account_id,
               .stats_token = link.stats_token,
               .created_at = link.created_at,
               .expires_at = link.expires_at,
               .deleted_at = std::nullopt};
  if (auto ok = insert.finish(); !ok) return std::unexpected(std::move(ok.error()));
  return created;
}

Result<Link> SqliteStore::find_link(std::string_view slug) {
  auto reader = readers_->acquire();
  Query query(reader->st.find_link, reader->conn.get());
  query.bind(1, slug);
  auto row = query.step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row) return fail(Errc::not_found, "no link with slug " + std::string(slug));
  return sqlite::read_link(query);
}

Result<LinkPage> SqliteStore::list_links(std::int64_t account_id, int limit,
                                         std::optional<std::int64_t> cursor) {
  const auto page_size = static_cast<std::size_t>(std::clamp(limit, 1, kMaxListLimit));
  auto reader = readers_->acquire();
  Query query(reader->st.list_links, reader->conn.get());
  // One row more than the page tells whether another page exists without a COUNT.
  query.bind(1, account_column(account_id))
      .bind(2, cursor.value_or(std::numeric_limits<std::int64_t>::max()))
      .bind(3, static_cast<std::int64_t>(page_size) + 1);
  LinkPage page;
  for (;;) {
    auto row = query.step();
    if (!row) return std::unexpected(std::move(row.error()));
    if (!*row) break;
    page.links.push_back(sqlite::read_link(query));
  }
  if (page.links.size() > page_size) {
    page.links.pop_back();
    page.next_cursor = page.links.back().id;
  }
  return page;
}

Result<Link> SqliteStore::update_link(std::string_view slug, const LinkPatch& patch) {
  std::lock_guard lock(writer_->mu);
  Query update(writer_->st.update_link, writer_->conn.get());
  // Parameters left unbound are NULL, which is what a cleared expiry needs.
  update.bind(1, slug);
  update.bind(2, std::int64_t{patch.url.has_value()});
  if (patch.url) update.bind(3, *patch.url);
  update.bind(4, std::int64_t{patch.title.has_value()});
  if (patch.title) update.bind(5, *patch.title);
  update.bind(6, std::int64_t{patch.expires_at.has_value()});
  if (patch.expires_at) update.bind(7, *patch.expires_at);
  auto row = update.step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row) return fail(Errc::not_found, "no live link with slug " + std::string(slug));
  Link updated = sqlite::read_link(update);
  if (auto ok = update.finish(); !ok) return std::unexpected(std::move(ok.error()));
  return updated;
}

Result<void> SqliteStore::delete_link(std::string_view slug, TimeUs at) {
  std::lock_guard lock(writer_->mu);
  Query update(writer_->st.delete_link, writer_->conn.get());
  update.bind(1, slug).bind(2, at);
  if (auto ok = update.finish(); !ok) return ok;
  // Read under the writer lock: no other statement ran on this connection since.
  if (sqlite3_changes(writer_->conn.get()) == 0) {
    return fail(Errc::not_found, "no live link with slug " + std::string(slug));
  }
  return {};
}

Result<void> SqliteStore::ping() {
  auto reader = readers_->acquire();
  Query query(reader->st.ping, reader->conn.get());
  return query.finish();
}

Result<Account> SqliteStore::create_account(bool admin, std::string_view key_hash, TimeUs at) {
  std::lock_guard lock(writer_->mu);
  auto tx = sqlite::Transaction::begin(writer_->conn);
  if (!tx) return std::unexpected(std::move(tx.error()));
  Account account{.id = 0, .admin = admin, .created_at = at};
  {
    Query insert(writer_->st.insert_account, writer_->conn.get());
    insert.bind(1, std::int64_t{admin}).bind(2, at);
    auto row = insert.step();
    if (!row) return std::unexpected(std::move(row.error()));
    if (!*row) return fail(Errc::internal, "INSERT INTO accounts returned no id");
    account.id = insert.int64(0);
    if (auto ok = insert.finish(); !ok) return std::unexpected(std::move(ok.error()));
  }
  {
    Query insert(writer_->st.insert_key, writer_->conn.get());
    insert.bind(1, key_hash).bind(2, account.id).bind(3, at);
    auto ok = insert.finish();
    if (!ok && ok.error().code == Errc::conflict) {
      return fail(Errc::conflict, "API key already registered");
    }
    if (!ok) return std::unexpected(std::move(ok.error()));
  }
  if (auto ok = tx->commit(); !ok) return std::unexpected(std::move(ok.error()));
  return account;
}

Result<Account> SqliteStore::find_account_by_key_hash(std::string_view key_hash) {
  auto reader = readers_->acquire();
  Query query(reader->st.find_account, reader->conn.get());
  query.bind(1, key_hash);
  auto row = query.step();
  if (!row) return std::unexpected(std::move(row.error()));
  // The hash is a secret's fingerprint: keep it out of the error detail (and so out of logs).
  if (!*row) return fail(Errc::not_found, "unknown API key");
  return Account{.id = query.int64(0), .admin = query.int64(1) != 0, .created_at = query.int64(2)};
}

Result<std::unique_ptr<SqliteClickStore>> SqliteStore::open_click_store(int readers) {
  // Aliasing pointers: each keeps the whole Writer alive while naming one of its members.
  std::shared_ptr<Connection> conn(writer_, &writer_->conn);
  std::shared_ptr<std::mutex> mu(writer_, &writer_->mu);
  return SqliteClickStore::open(std::move(conn), std::move(mu), path_,
                                std::clamp(readers, 1, kMaxReaders), busy_timeout_);
}

Result<bool> SqliteStore::has_admin() {
  auto reader = readers_->acquire();
  Query query(reader->st.has_admin, reader->conn.get());
  auto row = query.step();
  if (!row) return std::unexpected(std::move(row.error()));
  return *row && query.int64(0) != 0;
}

}  // namespace shortener
