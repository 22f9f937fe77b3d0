// The SQL of SqliteStore, as the two sets of statements each kind of connection prepares once:
// the writer's and every reader's. Link rows always come in the column order read_link expects.
#pragma once

#include <cstdint>
#include <optional>

#include "core/error.h"
#include "core/link.h"
#include "storage/sqlite/connection.h"

namespace shortener::sqlite {

struct WriterStatements {
  Statement insert_link;     // ?1 slug ?2 url ?3 title ?4 account ?5 token ?6 created ?7 expires
  Statement update_link;     // ?1 slug, then (set?, value) pairs for url, title, expires_at
  Statement delete_link;     // ?1 slug ?2 deleted_at
  Statement insert_account;  // ?1 admin ?2 created_at -> id
  Statement insert_key;      // ?1 key_hash ?2 account_id ?3 created_at
};

struct ReaderStatements {
  Statement find_link;     // ?1 slug
  Statement list_links;    // ?1 account ?2 exclusive upper id ?3 limit
  Statement find_account;  // ?1 key_hash
  Statement has_admin;
  Statement ping;
};

Result<WriterStatements> prepare_writer(Connection& db);
Result<ReaderStatements> prepare_reader(Connection& db);

// A link row as selected or returned by the statements above.
Link read_link(const Query& row);

// The domain says 0 for anonymous; the schema says NULL (a foreign key cannot point at 0).
inline std::optional<std::int64_t> account_column(std::int64_t account_id) {
  return account_id == 0 ? std::nullopt : std::optional<std::int64_t>(account_id);
}

}  // namespace shortener::sqlite
