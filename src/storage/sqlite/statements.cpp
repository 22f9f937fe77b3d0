#include "storage/sqlite/statements.h"

#include <string>
#include <string_view>

namespace shortener::sqlite {
namespace {

#define LINK_COLUMNS \
  "id, slug, url, title, account_id, stats_token, created_at, expires_at, deleted_at"

constexpr std::string_view kInsertLink =
    "INSERT INTO links (slug, url, title, account_id, stats_token, created_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";

// One statement for every PATCH shape: each field has a "set it?" flag, so no SQL is built at
// run time. Deleted links are not updatable (RETURNING yields no row -> not found).
constexpr std::string_view kUpdateLink =
    "UPDATE links SET "
    "url = CASE WHEN ?2 THEN ?3 ELSE url END, "
    "title = CASE WHEN ?4 THEN ?5 ELSE title END, "
    "expires_at = CASE WHEN ?6 THEN ?7 ELSE expires_at END "
    "WHERE slug = ?1 AND deleted_at IS NULL RETURNING " LINK_COLUMNS;

constexpr std::string_view kDeleteLink =
    "UPDATE links SET deleted_at = ?2 WHERE slug = ?1 AND deleted_at IS NULL";

constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts (admin, created_at) VALUES (?1, ?2) RETURNING id";

constexpr std::string_view kInsertKey =
    "INSERT INTO api_keys (key_hash, account_id, created_at) VALUES (?1, ?2, ?3)";

constexpr std::string_view kFindLink = "SELECT " LINK_COLUMNS " FROM links WHERE slug = ?1";

// `IS` rather than `=` so that account NULL (anonymous) matches too; both use the
// links_by_account index, which also yields the rows already in id DESC order.
constexpr std::string_view kListLinks =
    "SELECT " LINK_COLUMNS
    " FROM links WHERE account_id IS ?1 AND deleted_at IS NULL AND id < ?2 "
    "ORDER BY id DESC LIMIT ?3";

constexpr std::string_view kFindAccount =
    "SELECT a.id, a.admin, a.created_at FROM api_keys AS k "
    "JOIN accounts AS a ON a.id = k.account_id WHERE k.key_hash = ?1";

constexpr std::string_view kHasAdmin = "SELECT EXISTS (SELECT 1 FROM accounts WHERE admin = 1)";

// Reads the database file (a bare `SELECT 1` would not), so a vanished or unreadable file
// shows up as not ready.
constexpr std::string_view kPing = "SELECT max(version) FROM schema_migrations";

#undef LINK_COLUMNS

struct Spec {
  Statement* target;
  std::string_view sql;
};

Result<void> prepare_all(Connection& db, std::initializer_list<Spec> specs) {
  for (const Spec& spec : specs) {
    auto stmt = db.prepare(spec.sql);
    if (!stmt) {
      stmt.error().detail += " [" + std::string(spec.sql) + "]";
      return std::unexpected(std::move(stmt.error()));
    }
    *spec.target = std::move(*stmt);
  }
  return {};
}

}  // namespace

Result<WriterStatements> prepare_writer(Connection& db) {
  WriterStatements s;
  auto ok = prepare_all(db, {{&s.insert_link, kInsertLink},
                             {&s.update_link, kUpdateLink},
                             {&s.delete_link, kDeleteLink},
                             {&s.insert_account, kInsertAccount},
                             {&s.insert_key, kInsertKey}});
  if (!ok) return std::unexpected(std::move(ok.error()));
  return s;
}

Result<ReaderStatements> prepare_reader(Connection& db) {
  ReaderStatements s;
  auto ok = prepare_all(db, {{&s.find_link, kFindLink},
                             {&s.list_links, kListLinks},
                             {&s.find_account, kFindAccount},
                             {&s.has_admin, kHasAdmin},
                             {&s.ping, kPing}});
  if (!ok) return std::unexpected(std::move(ok.error()));
  return s;
}

Link read_link(const Query& row) {
  Link link;
  link.id = row.int64(0);
  link.slug = row.text(1);
  link.url = row.text(2);
  link.title = row.text(3);
  link.account_id = row.optional_int64(4).value_or(0);
  link.stats_token = row.text(5);
  link.created_at = row.int64(6);
  link.expires_at = row.optional_int64(7);
  link.deleted_at = row.optional_int64(8);
  return link;
}

}  // namespace shortener::sqlite
