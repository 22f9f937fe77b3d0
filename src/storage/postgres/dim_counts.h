// The packed dimension counts (storage/common/dim_counts.h), stored as bytea, with the values
// made valid UTF-8 first like every text column PostgreSQL returns (arrays.h), so the values
// stats() ranks and the raw rows' columns agree.
#pragma once

#include "storage/common/dim_counts.h"

namespace shortener::pg {

using storage::Dim;
using storage::DimCountsBuilder;
using storage::DimTotals;
using storage::kDimCount;
using storage::sum_dim_counts;

// Adds one click's six values to `counts`, as valid UTF-8.
void add_click(DimCountsBuilder& counts, const EnrichedClick& click);

}  // namespace shortener::pg
