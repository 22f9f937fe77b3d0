// Monthly range partitions of the raw `clicks` table (declarative partitioning on `at`, µs).
//
// A partition holds one UTC calendar month: clicks_pYYYY_MM, FOR VALUES FROM (first µs of the
// month) TO (first µs of the next). `migrate` creates the current month's and the next
// kMonthsAhead; PostgresClickStore::write creates any other a batch needs (a late or replayed
// click) before its transaction; prune drops the months wholly before the retention cut-off.
// Creating and dropping take an advisory lock per schema, so concurrent workers never race on
// the catalog. Both also take a brief ACCESS EXCLUSIVE lock on `clicks`, so they run outside
// the click-batch transactions, which would otherwise hold it.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "core/link.h"
#include "storage/postgres/connection.h"

namespace shortener::pg {

// Months created ahead of time: a quiet start of month never waits on DDL.
inline constexpr int kMonthsAhead = 2;

struct Month {
  TimeUs from = 0;  // inclusive: 00:00 UTC on the 1st
  TimeUs to = 0;    // exclusive: the next month's `from`
};

Month month_of(TimeUs t);
std::string partition_name(const Month& month);  // "clicks_p2026_01"

// CREATE TABLE IF NOT EXISTS ... PARTITION OF clicks, in a short transaction of its own.
Result<void> create_click_partition(Connection& db, const Month& month);
// The partitions of `clicks` this adapter made (named as above), oldest first.
Result<std::vector<Month>> click_partitions(Connection& db);
// DROP TABLE of one month's partition, in a short transaction of its own.
Result<void> drop_click_partition(Connection& db, const Month& month);

}  // namespace shortener::pg
