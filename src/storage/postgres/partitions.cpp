#include "storage/postgres/partitions.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace shortener::pg {
namespace {

using std::chrono::microseconds;
using std::chrono::sys_days;

// Serialises partition DDL per schema (the key space is shared with migrations.cpp).
constexpr std::string_view kLockPartitions =
    "SELECT pg_advisory_xact_lock(1936224114, hashtext(current_schema() || '/partitions'))";

TimeUs us_of(sys_days day) {
  return std::chrono::duration_cast<microseconds>(day.time_since_epoch()).count();
}

Month month_starting(std::chrono::year_month ym) {
  return Month{us_of(sys_days(ym / 1)), us_of(sys_days((ym + std::chrono::months(1)) / 1))};
}

// DDL under the partition lock, in a transaction of its own.
Result<void> locked_ddl(Connection& db, const std::string& ddl) {
  auto tx = Transaction::begin(db);
  if (!tx) return propagate(tx);
  if (auto ok = db.exec(kLockPartitions, "lock partitions"); !ok) return propagate(ok);
  if (auto ok = db.exec(ddl, ddl); !ok) return propagate(ok);
  return tx->commit();
}

}  // namespace

Month month_of(TimeUs t) {
  const auto day =
      std::chrono::floor<std::chrono::days>(std::chrono::sys_time<microseconds>(microseconds(t)));
  const std::chrono::year_month_day ymd(day);
  return month_starting(ymd.year() / ymd.month());
}

std::string partition_name(const Month& month) {
  const std::chrono::year_month_day ymd(std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<microseconds>(microseconds(month.from))));
  char name[32];
  std::snprintf(name, sizeof name, "clicks_p%04d_%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()));
  return name;
}

Result<void> create_click_partition(Connection& db, const Month& month) {
  return locked_ddl(db, "CREATE TABLE IF NOT EXISTS " + partition_name(month) +
                            " PARTITION OF clicks FOR VALUES FROM (" + std::to_string(month.from) +
                            ") TO (" + std::to_string(month.to) + ")");
}

Result<std::vector<Month>> click_partitions(Connection& db) {
  auto rows = db.exec(
      "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = 'clicks'::regclass",
      "list click partitions");
  if (!rows) return propagate(rows);
  std::vector<Month> months;
  for (int r = 0; r < rows->rows(); ++r) {
    const std::string name(rows->text(r, 0));
    int year = 0;
    unsigned month = 0;
    char tail = 0;
    // Only the names this adapter gives: an operator's own partition is left alone.
    if (std::sscanf(name.c_str(), "clicks_p%4d_%2u%c", &year, &month, &tail) != 2) continue;
    const std::chrono::year_month ym{std::chrono::year{year}, std::chrono::month{month}};
    if (!ym.ok() || partition_name(month_starting(ym)) != name) continue;
    months.push_back(month_starting(ym));
  }
  std::sort(months.begin(), months.end(),
            [](const Month& a, const Month& b) { return a.from < b.from; });
  return months;
}

Result<void> drop_click_partition(Connection& db, const Month& month) {
  return locked_ddl(db, "DROP TABLE IF EXISTS " + partition_name(month));
}

}  // namespace shortener::pg
