#include "storage/sqlite/dim_counts.h"

#include <new>
#include <string_view>

namespace shortener::sqlite {
namespace {

std::string_view blob_of(sqlite3_value* value) {
  const void* data = sqlite3_value_blob(value);  // NULL (a new row) reads as empty
  return {static_cast<const char*>(data), static_cast<std::size_t>(sqlite3_value_bytes(value))};
}

void merge_function(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  try {  // no exception may unwind through SQLite's C frames
    auto merged = merge_dim_counts(blob_of(argv[0]), blob_of(argv[1]));
    if (!merged) return sqlite3_result_error(ctx, merged.error().detail.c_str(), -1);
    sqlite3_result_blob64(ctx, merged->data(), merged->size(), SQLITE_TRANSIENT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  }
}

}  // namespace

Result<void> register_dim_counts_merge(sqlite3* db) {
  // DIRECTONLY: callable from our statements only, never from a trigger or view in the file.
  const int rc = sqlite3_create_function_v2(db, "dim_counts_merge", 2,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                            nullptr, merge_function, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(Errc::internal, "cannot register dim_counts_merge");
  return {};
}

}  // namespace shortener::sqlite
