#include "worker/enrich/geo_locator.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <utility>

namespace shortener::enrich {
namespace {

// Names in a database are short; anything longer is a broken or hostile file.
constexpr std::size_t kMaxPlaceName = 128;

// What identifies one version of a file: a rename-into-place changes the inode, an in-place
// rewrite the mtime or size. (Files must be replaced by rename: the old version stays
// mmap-ed until the last lookup using it is done.)
struct FileStamp {
  std::int64_t mtime_ns = 0;
  std::int64_t size = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  bool operator==(const FileStamp&) const = default;
};

Result<FileStamp> stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(Errc::unavailable, "cannot stat " + path + ": " + std::strerror(errno));
  }
  return FileStamp{st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, st.st_size, st.st_ino,
                   st.st_dev};
}

// One open MMDB. Not movable: libmaxminddb keeps pointers into MMDB_s.
struct Mmdb {
  MMDB_s db{};
  std::string path;
  FileStamp stamp;

  Mmdb() = default;
  Mmdb(const Mmdb&) = delete;
  Mmdb& operator=(const Mmdb&) = delete;
  ~Mmdb() { MMDB_close(&db); }
};

using Snapshot = std::vector<std::unique_ptr<Mmdb>>;

Result<std::unique_ptr<Mmdb>> open_mmdb(const std::string& path) {
  auto stamp = stamp_of(path);
  if (!stamp) return std::unexpected(stamp.error());
  auto mmdb = std::make_unique<Mmdb>();
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb->db);
  if (status != MMDB_SUCCESS) {
    // MMDB_open leaves nothing to close on failure; skip the destructor's MMDB_close.
    mmdb->db = MMDB_s{};
    const Errc code = status == MMDB_FILE_OPEN_ERROR ? Errc::unavailable : Errc::invalid_input;
    return fail(code, path + ": " + MMDB_strerror(status));
  }
  mmdb->path = path;
  mmdb->stamp = *stamp;
  return mmdb;
}

Result<std::shared_ptr<const Snapshot>> open_all(const std::vector<std::string>& paths) {
  auto snapshot = std::make_shared<Snapshot>();
  for (const std::string& path : paths) {
    auto mmdb = open_mmdb(path);
    if (!mmdb) return std::unexpected(mmdb.error());
    snapshot->push_back(std::move(*mmdb));
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

// A UTF-8 string at `path...` (nullptr-terminated), or empty.
template <class... Path>
std::string_view string_at(MMDB_entry_s& entry, Path... path) {
  MMDB_entry_data_s data{};
  if (MMDB_get_value(&entry, &data, path..., nullptr) != MMDB_SUCCESS) return {};
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
  return {data.utf8_string, data.data_size};
}

bool fill_country(std::string& out, std::string_view code) {
  if (code.size() != 2) return false;
  std::string upper(code);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return false;
  }
  if (upper == "ZZ" || upper == "XX") return false;  // "unknown" in some databases
  out = std::move(upper);
  return true;
}

bool fill_name(std::string& out, std::string_view name) {
  if (name.empty() || name.size() > kMaxPlaceName) return false;
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  out.assign(name);
  return true;
}

// Fills the fields still unknown from one database record, flat schema first.
void fill_from(MMDB_entry_s entry, GeoLocation& out) {
  if (out.country == kUnknownPlace &&
      !fill_country(out.country, string_at(entry, "country_code"))) {
    fill_country(out.country, string_at(entry, "country", "iso_code"));
  }
  if (out.region == kUnknownPlace && !fill_name(out.region, string_at(entry, "state1"))) {
    fill_name(out.region, string_at(entry, "subdivisions", "0", "names", "en"));
  }
  if (out.city == kUnknownPlace && !fill_name(out.city, string_at(entry, "city"))) {
    fill_name(out.city, string_at(entry, "city", "names", "en"));
  }
}

bool complete(const GeoLocation& g) {
  return g.country != kUnknownPlace && g.region != kUnknownPlace && g.city != kUnknownPlace;
}

sockaddr_storage to_sockaddr(const IpAddress& ip) {
  sockaddr_storage storage{};
  if (ip.v4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
  }
  return storage;
}

}  // namespace

struct GeoLocator::Impl {
  std::vector<std::string> paths;
  // Guards only the pointer: lookups copy it, a reload swaps in a set it opened beforehand.
  // (Not std::atomic<shared_ptr>: libstdc++ 12's version trips ThreadSanitizer.)
  mutable std::mutex current_mutex;
  std::shared_ptr<const Snapshot> current;
  std::mutex reload_mutex;  // one reload at a time; lookups never take it
  std::atomic<std::uint64_t> reloads{0};

  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(current_mutex);
    return current;
  }

  Result<void> reload_locked() {
    auto fresh = open_all(paths);
    if (!fresh) return std::unexpected(fresh.error());
    std::shared_ptr<const Snapshot> old;
    {
      std::lock_guard lock(current_mutex);
      old = std::exchange(current, std::move(*fresh));
    }
    // `old` is released here, outside the lock: closing files must not stall lookups.
    reloads.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
};

Result<GeoLocator> GeoLocator::open(std::vector<std::string> paths) {
  if (paths.empty()) return fail(Errc::invalid_input, "no geo database given");
  auto snapshot = open_all(paths);
  if (!snapshot) return std::unexpected(snapshot.error());
  auto impl = std::make_unique<Impl>();
  impl->paths = std::move(paths);
  impl->current = std::move(*snapshot);
  return GeoLocator(std::move(impl));
}

GeoLocator::GeoLocator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeoLocator::GeoLocator(GeoLocator&&) noexcept = default;
GeoLocator& GeoLocator::operator=(GeoLocator&&) noexcept = default;
GeoLocator::~GeoLocator() = default;

GeoLocation GeoLocator::lookup(std::string_view ip) const {
  const auto parsed = IpAddress::parse(ip);
  if (!parsed) return {};
  return lookup(*parsed);
}

GeoLocation GeoLocator::lookup(const IpAddress& ip) const {
  GeoLocation out;
  if (!is_public(ip)) return out;
  const sockaddr_storage address = to_sockaddr(ip);
  const std::shared_ptr<const Snapshot> snapshot = impl_->snapshot();
  for (const auto& mmdb : *snapshot) {
    // An IPv6 address cannot be in an IPv4-only tree (libmaxminddb would report an error).
    if (!ip.v4 && mmdb->db.metadata.ip_version == 4) continue;
    int error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(&mmdb->db, reinterpret_cast<const sockaddr*>(&address), &error);
    if (error != MMDB_SUCCESS || !result.found_entry) continue;
    fill_from(result.entry, out);
    if (complete(out)) break;
  }
  return out;
}

Result<bool> GeoLocator::reload_if_changed() {
  std::lock_guard lock(impl_->reload_mutex);
  const std::shared_ptr<const Snapshot> snapshot = impl_->snapshot();
  bool changed = false;
  for (const auto& mmdb : *snapshot) {
    auto stamp = stamp_of(mmdb->path);
    if (!stamp) return std::unexpected(stamp.error());
    changed = changed || *stamp != mmdb->stamp;
  }
  if (!changed) return false;
  if (auto reloaded = impl_->reload_locked(); !reloaded) return std::unexpected(reloaded.error());
  return true;
}

Result<void> GeoLocator::reload() {
  std::lock_guard lock(impl_->reload_mutex);
  return impl_->reload_locked();
}

std::vector<GeoDatabase> GeoLocator::databases() const {
  std::vector<GeoDatabase> out;
  for (const auto& mmdb : *impl_->snapshot()) {
    const auto& meta = mmdb->db.metadata;
    out.push_back({mmdb->path, meta.database_type != nullptr ? meta.database_type : "",
                   meta.build_epoch, static_cast<int>(meta.ip_version)});
  }
  return out;
}

std::uint64_t GeoLocator::reloads() const {
  return impl_->reloads.load(std::memory_order_relaxed);
}

}  // namespace shortener::enrich
