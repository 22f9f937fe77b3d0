#include "storage/postgres/dim_counts.h"

#include "storage/postgres/arrays.h"

namespace shortener::pg {

void add_click(DimCountsBuilder& counts, const EnrichedClick& click) {
  for (std::uint8_t dim = 0; dim < kDimCount; ++dim)
    counts.add(static_cast<Dim>(dim), valid_utf8(storage::dim_value(click, static_cast<Dim>(dim))),
               click.bot ? 0 : 1, click.bot ? 1 : 0);
}

}  // namespace shortener::pg
