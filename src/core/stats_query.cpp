#include "core/stats_query.h"

#include <algorithm>

namespace shortener {

namespace {
constexpr std::int64_t kSixHoursUs = 6 * 3'600'000'000LL;
constexpr std::int64_t kFourteenDaysUs = 14 * 86'400'000'000LL;

TimeUs align_down(TimeUs t, Interval interval) {
  std::int64_t step = interval_us(interval);
  TimeUs aligned = t / step * step;
  return aligned > t ? aligned - step : aligned;  // negative times round toward -inf
}
}  // namespace

std::optional<Interval> parse_interval(std::string_view text) {
  if (text == "minute") return Interval::minute;
  if (text == "hour") return Interval::hour;
  if (text == "day") return Interval::day;
  return std::nullopt;
}

std::string_view interval_name(Interval interval) {
  switch (interval) {
    case Interval::minute:
      return "minute";
    case Interval::hour:
      return "hour";
    case Interval::day:
      return "day";
  }
  return "hour";
}

Result<StatsQuery> plan_stats_query(std::optional<TimeUs> from, std::optional<TimeUs> to,
                                    std::optional<Interval> interval, bool include_bots,
                                    TimeUs now) {
  StatsQuery query;
  query.to = to.value_or(now);
  query.from = from.value_or(query.to - kDefaultRangeUs);
  if (query.from >= query.to) return fail(Errc::invalid_input, "from must be before to");
  std::int64_t range = query.to - query.from;
  query.interval = interval.value_or(range <= kSixHoursUs       ? Interval::minute
                                     : range <= kFourteenDaysUs ? Interval::hour
                                                                : Interval::day);
  while (query.interval != Interval::day && range / interval_us(query.interval) >= kMaxBuckets)
    query.interval = query.interval == Interval::minute ? Interval::hour : Interval::day;
  if (range / interval_us(Interval::day) >= kMaxBuckets)
    return fail(Errc::invalid_input, "the range is too long: at most 1500 days");
  query.from = align_down(query.from, query.interval);
  query.include_bots = include_bots;
  return query;
}

void fill_timeseries(Stats& stats, const StatsQuery& query) {
  std::sort(stats.timeseries.begin(), stats.timeseries.end(),
            [](const Bucket& a, const Bucket& b) { return a.t < b.t; });
  std::vector<Bucket> filled;
  std::int64_t step = interval_us(query.interval);
  auto next = stats.timeseries.begin();
  for (TimeUs t = query.from; t < query.to; t += step) {
    Bucket bucket{t, 0, 0};
    for (; next != stats.timeseries.end() && next->t < t + step; ++next) {
      if (next->t < t) continue;
      bucket.clicks += next->clicks;
      bucket.unique += next->unique;
    }
    filled.push_back(bucket);
  }
  stats.timeseries = std::move(filled);
}

}  // namespace shortener
