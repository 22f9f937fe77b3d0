// SqliteStore: the embedded default LinkStore + AccountStore, one SQLite file in WAL mode.
//
// Threads: one writer connection behind a mutex (SQLite admits one writer at a time anyway)
// and a fixed pool of reader connections. In WAL mode a reader never waits for the writer, so
// redirect lookups on N HTTP threads run in parallel; a call borrows a reader for the duration
// of one statement (the pool's lock is held only to hand the connection over). Each connection
// prepares its statements once, at open, and reuses them. A statement is reset after every use,
// which ends its read snapshot, so a read always sees every write committed before it began.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/link.h"
#include "core/ports.h"

namespace shortener {

namespace sqlite {
template <class Statements>
class ReaderPool;
struct ReaderStatements;
}  // namespace sqlite

class SqliteClickStore;

struct SqliteOptions {
  // Reader connections. Size it to the number of threads that read at once (the HTTP threads);
  // a call that finds none free waits for one. Clamped to 1..64.
  int readers = 4;
  // How long a statement waits for a lock held by another connection or process (another
  // `shortener keys create`, a checkpoint) before the call fails with Errc::unavailable.
  std::chrono::milliseconds busy_timeout{5000};
};

class SqliteStore final : public LinkStore, public AccountStore {
 public:
  // Opens or creates the database file at `path` (its directory must exist), switches it to
  // WAL, applies pending migrations and prepares every statement. Failures are values:
  // Errc::unavailable when the file cannot be opened or written (missing directory,
  // permissions, locked), Errc::internal when it is not a database, is corrupt, or was
  // migrated by a newer binary. Never throws except std::bad_alloc.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const SqliteOptions& options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<Link> create_link(const NewLink& link) override;
  Result<Link> find_link(std::string_view slug) override;
  Result<LinkPage> list_links(std::int64_t account_id, int limit,
                              std::optional<std::int64_t> cursor) override;
  Result<Link> update_link(std::string_view slug, const LinkPatch& patch) override;
  Result<void> delete_link(std::string_view slug, TimeUs at) override;
  Result<void> ping() override;

  Result<Account> create_account(bool admin, std::string_view key_hash, TimeUs at) override;
  Result<Account> find_account_by_key_hash(std::string_view key_hash) override;
  Result<bool> has_admin() override;

  // The analytics adapter (ClickStore + StatsStore) over the same file. It shares this store's
  // writer connection and its mutex: SQLite admits one writer at a time, and queueing link and
  // click writes on one in-process mutex is fair and immediate, where two writer connections
  // would poll the file lock through busy_timeout. It opens `readers` reader connections of its
  // own (clamped to 1..64), so a long stats query or CSV export never holds a redirect's reader.
  // The click store may outlive this object (it keeps the writer alive).
  Result<std::unique_ptr<SqliteClickStore>> open_click_store(int readers = 2);

 private:
  struct Writer;
  using ReaderPool = sqlite::ReaderPool<sqlite::ReaderStatements>;

  SqliteStore(std::shared_ptr<Writer> writer, std::unique_ptr<ReaderPool> readers, std::string path,
              std::chrono::milliseconds busy_timeout);

  // Declaration order matters: readers close before the writer, so the writer is the last
  // connection and checkpoints the WAL into the main file on close. Shared with the click
  // store, which holds the writer alive until it closes its own readers.
  std::shared_ptr<Writer> writer_;
  std::unique_ptr<ReaderPool> readers_;
  std::string path_;
  std::chrono::milliseconds busy_timeout_;
};

}  // namespace shortener
