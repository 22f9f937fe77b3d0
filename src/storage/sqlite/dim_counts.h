// The packed dimension counts (storage/common/dim_counts.h) as the SQLite adapter names them.
#pragma once

#include "storage/common/dim_counts.h"

namespace shortener::sqlite {

using storage::Dim;
using storage::DimCountsBuilder;
using storage::DimTotals;
using storage::kDimCount;
using storage::merge_dim_counts;

}  // namespace shortener::sqlite
