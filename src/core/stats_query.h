// Analytics query planning: defaults and bounds for from/to/interval, and zero-filling of the
// time series. Pure logic shared by every StatsStore.
#pragma once

#include <optional>
#include <string_view>

#include "core/click_ports.h"
#include "core/error.h"

namespace shortener {

// Range limits: a response never holds more than kMaxBuckets buckets; a coarser interval is
// chosen when the requested one would exceed it.
inline constexpr std::int64_t kMaxBuckets = 1500;
inline constexpr std::int64_t kDefaultRangeUs = 7 * 86'400'000'000LL;

std::optional<Interval> parse_interval(std::string_view text);
std::string_view interval_name(Interval interval);

// Defaults: to = now, from = to - 7 days; interval follows the range (minute up to 6 h, hour
// up to 14 days, day beyond) and is coarsened past kMaxBuckets. `from` is aligned down to the
// interval. Errc::invalid_input when from >= to.
Result<StatsQuery> plan_stats_query(std::optional<TimeUs> from, std::optional<TimeUs> to,
                                    std::optional<Interval> interval, bool include_bots,
                                    TimeUs now);

// Sorts the sparse buckets a store returns and fills every missing bucket in [from, to) with
// zero clicks.
void fill_timeseries(Stats& stats, const StatsQuery& query);

}  // namespace shortener
