#include "core/time.h"

#include <chrono>
#include <cstdio>

namespace shortener {
namespace {

namespace chr = std::chrono;

constexpr int kMinYear = 1970;  // TimeUs is non-negative in the domain
constexpr int kMaxYear = 9999;  // four digits, as RFC 3339 requires

// Reads exactly `width` decimal digits at `pos`, advancing it; -1 when they are not there.
int read_digits(std::string_view text, std::size_t& pos, int width) {
  if (pos + static_cast<std::size_t>(width) > text.size()) return -1;
  int value = 0;
  for (int i = 0; i < width; ++i) {
    const char c = text[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(width);
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// ".d+" after the seconds: up to 9 digits, truncated (not rounded) to microseconds.
std::optional<std::int64_t> read_fraction_us(std::string_view text, std::size_t& pos) {
  if (pos >= text.size() || text[pos] != '.') return 0;
  ++pos;
  std::int64_t us = 0;
  int digits = 0;
  for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
    if (digits < 6) us = us * 10 + (text[pos] - '0');
  }
  if (digits == 0 || digits > 9) return std::nullopt;
  for (int i = digits; i < 6; ++i) us *= 10;
  return us;
}

// "Z", "z", "+hh:mm" or "-hh:mm" ending the text: the offset of local time from UTC, seconds.
std::optional<std::int64_t> read_offset_s(std::string_view text, std::size_t& pos) {
  if (pos >= text.size()) return std::nullopt;
  const char sign = text[pos++];
  if (sign == 'Z' || sign == 'z') return 0;
  if (sign != '+' && sign != '-') return std::nullopt;
  const int hh = read_digits(text, pos, 2);
  if (hh < 0 || hh > 23 || !expect(text, pos, ':')) return std::nullopt;
  const int mm = read_digits(text, pos, 2);
  if (mm < 0 || mm > 59) return std::nullopt;
  const std::int64_t offset = hh * 3600 + mm * 60;
  return sign == '-' ? -offset : offset;
}

}  // namespace

std::optional<TimeUs> parse_rfc3339(std::string_view text) {
  std::size_t pos = 0;
  const int year = read_digits(text, pos, 4);
  if (year < kMinYear || year > kMaxYear || !expect(text, pos, '-')) return std::nullopt;
  const int month = read_digits(text, pos, 2);
  if (month < 0 || !expect(text, pos, '-')) return std::nullopt;
  const int day = read_digits(text, pos, 2);
  if (day < 0 || !(expect(text, pos, 'T') || expect(text, pos, 't'))) return std::nullopt;
  const int hour = read_digits(text, pos, 2);
  if (hour < 0 || hour > 23 || !expect(text, pos, ':')) return std::nullopt;
  const int minute = read_digits(text, pos, 2);
  if (minute < 0 || minute > 59 || !expect(text, pos, ':')) return std::nullopt;
  // Leap seconds (":60") are refused: the system clock does not represent them either.
  const int second = read_digits(text, pos, 2);
  if (second < 0 || second > 59) return std::nullopt;
  const auto fraction_us = read_fraction_us(text, pos);
  if (!fraction_us) return std::nullopt;
  const auto offset_s = read_offset_s(text, pos);
  if (!offset_s || pos != text.size()) return std::nullopt;

  // year_month_day::ok() knows month lengths and leap years (Feb 29 only when leap).
  const chr::year_month_day date{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                                 chr::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  const std::int64_t days = chr::sys_days{date}.time_since_epoch().count();
  const std::int64_t local_s = days * 86400 + hour * 3600 + minute * 60 + second;
  const std::int64_t utc_us = (local_s - *offset_s) * 1'000'000 + *fraction_us;
  if (utc_us < 0) return std::nullopt;  // e.g. 1970-01-01T00:00:00+01:00
  return utc_us;
}

std::string format_rfc3339(TimeUs t) {
  const chr::sys_time<chr::microseconds> tp{chr::microseconds{t}};
  const auto day_start = chr::floor<chr::days>(tp);
  const chr::year_month_day date{day_start};
  const chr::hh_mm_ss<chr::microseconds> clock{tp - day_start};
  const auto us = clock.subseconds().count();

  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                        static_cast<int>(clock.minutes().count()),
                        static_cast<int>(clock.seconds().count()));
  // Milliseconds when that is exact, so whole-ms times read naturally; else microseconds.
  if (us != 0 && us % 1000 == 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03d",
                       static_cast<int>(us / 1000));
  } else if (us != 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%06d",
                       static_cast<int>(us));
  }
  return std::string(buf, static_cast<std::size_t>(n)) + "Z";
}

}  // namespace shortener
