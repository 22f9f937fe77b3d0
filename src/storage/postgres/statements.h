// Every statement the adapter runs per request, by name. Each pooled connection prepares the
// set it needs once, when it connects (prepare_link_statements / prepare_click_statements), and
// runs them with Connection::run(name, params).
#pragma once

#include <string_view>

#include "core/error.h"
#include "storage/postgres/connection.h"

namespace shortener::pg::stmt {

// LinkStore + AccountStore
inline constexpr const char* kInsertLink = "insert_link";
inline constexpr const char* kFindLink = "find_link";
inline constexpr const char* kListLinks = "list_links";
inline constexpr const char* kListAnonymousLinks = "list_anonymous_links";
inline constexpr const char* kUpdateLink = "update_link";
inline constexpr const char* kDeleteLink = "delete_link";
inline constexpr const char* kInsertAccount = "insert_account";
inline constexpr const char* kFindAccount = "find_account";
inline constexpr const char* kHasAdmin = "has_admin";
inline constexpr const char* kPing = "ping";

// Link shards of the pending increments: a row of pending_counts / pending_dims holds the
// links with link_id % kPendingShards == shard (the statements say 16 too).
inline constexpr int kPendingShards = 16;

// ClickStore: writes (arrays in, one statement per table per batch) and retention.
inline constexpr const char* kInsertVisitors = "insert_visitors";
inline constexpr const char* kInsertClicks = "insert_clicks";
inline constexpr const char* kMarkFirstOfDay = "mark_first_of_day";
inline constexpr const char* kDeleteVisitor = "delete_visitor";
inline constexpr const char* kAddPendingCounts = "add_pending_counts";
inline constexpr const char* kAddPendingDims = "add_pending_dims";
// Folding pending increments into the rollups (postgres_click_store.h).
inline constexpr const char* kLockFold = "lock_fold";
inline constexpr const char* kFoldCounts = "fold_counts";
inline constexpr const char* kTakePendingDims = "take_pending_dims";
inline constexpr const char* kAddDailyDims = "add_daily_dims";
inline constexpr const char* kTakeDailyDims = "take_daily_dims";
inline constexpr const char* kPutDailyDims = "put_daily_dims";
inline constexpr const char* kPruneClicks = "prune_clicks";
inline constexpr const char* kPruneMinutely = "prune_minutely";
inline constexpr const char* kPruneVisitors = "prune_visitors";

// StatsStore
inline constexpr const char* kSeriesHourly = "series_hourly";
inline constexpr const char* kSeriesMinutely = "series_minutely";
inline constexpr const char* kDailyDims = "daily_dims";
inline constexpr const char* kTopLinksHourly = "top_links_hourly";
inline constexpr const char* kTopLinksMinutely = "top_links_minutely";
inline constexpr const char* kExportPage = "export_page";

// Not a prepared statement: COPY of a click batch in binary format (ClickBatch::click_copy).
extern const std::string_view kCopyClicks;

Result<void> prepare_link_statements(Connection& db);
Result<void> prepare_click_statements(Connection& db);

}  // namespace shortener::pg::stmt
