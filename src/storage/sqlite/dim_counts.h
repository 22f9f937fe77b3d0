// The packed dimension counts (storage/common/dim_counts.h) inside SQLite: a SQL function that
// merges a stored blob with a batch's increments in the upsert itself.
#pragma once

#include <sqlite3.h>

#include "core/error.h"
#include "storage/common/dim_counts.h"

namespace shortener::sqlite {

using storage::Dim;
using storage::DimCountsBuilder;
using storage::DimTotals;
using storage::kDimCount;
using storage::merge_dim_counts;

// Registers dim_counts_merge(a, b) on a connection, for
// `ON CONFLICT DO UPDATE SET counts = dim_counts_merge(counts, excluded.counts)`.
Result<void> register_dim_counts_merge(sqlite3* db);

}  // namespace shortener::sqlite
