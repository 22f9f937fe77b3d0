// The PostgreSQL schema as an ordered list of versioned migrations embedded in the binary, and
// migrate(), which `shortener migrate` (and `serve`, unless told not to) runs.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/link.h"
#include "storage/postgres/connection.h"

namespace shortener::pg {

struct Migration {
  int version;  // strictly increasing from 1; never renumber or edit a released one
  std::string_view name;
  std::string_view sql;
};

// Every migration this binary knows, oldest first.
std::span<const Migration> migrations();
// The newest version this binary knows: what its statements are written against.
int newest_schema_version();

// Applies every migration not yet recorded in schema_migrations, all in one transaction that
// first takes pg_advisory_xact_lock (per schema), so two `migrate` runs at once serialise and
// the second finds nothing to do; a failure leaves no trace. Then makes sure the monthly click
// partitions for `now`'s month and the next kMonthsAhead exist. Returns the schema version.
// A database migrated by a newer binary is refused (Errc::internal).
Result<int> migrate(Connection& db, TimeUs now);
// The same on a connection of its own to `url` (postgres://...). Errc::unavailable when the
// server cannot be reached.
Result<int> migrate(const std::string& url);

// Refuses to run statements against the wrong schema: Errc::unavailable ("run shortener
// migrate") when the database is not migrated to this binary's version yet (a `migrate` may
// be running), Errc::internal when a newer binary migrated it.
Result<void> check_schema(Connection& db);

}  // namespace shortener::pg
