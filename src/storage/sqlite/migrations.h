// The SQLite schema as an ordered list of versioned migrations embedded in the binary.
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"
#include "storage/sqlite/connection.h"

namespace shortener::sqlite {

struct Migration {
  int version;  // strictly increasing from 1; never renumber or edit a released one
  std::string_view name;
  std::string_view sql;
};

// Every migration this binary knows, oldest first.
std::span<const Migration> migrations();

// Applies each migration of `list` not yet recorded in schema_migrations, in order, each in
// its own BEGIN IMMEDIATE transaction (the SQL, the ledger row and PRAGMA user_version commit
// together or not at all). The write lock serialises two processes migrating at once and each
// re-checks the ledger inside its transaction, so running it twice or concurrently is a no-op.
// Returns how many migrations it applied. A database migrated by a newer binary is refused
// (Errc::internal): this binary would misread it.
Result<int> migrate(Connection& db, std::span<const Migration> list = migrations());

}  // namespace shortener::sqlite
