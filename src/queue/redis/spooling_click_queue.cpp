#include "queue/redis/spooling_click_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "queue/redis/click_codec.h"
#include "redis/byte_codec.h"

namespace shortener {

namespace {

constexpr std::size_t kHeaderBytes = 8;
constexpr std::uint32_t kMaxRecordBytes = 1u << 30;  // a larger length is corruption

std::uint32_t fnv1a(std::string_view bytes) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : bytes) hash = (hash ^ c) * 16777619u;
  return hash;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_u32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

std::optional<std::vector<ClickEvent>> decode_payload(std::string_view payload) {
  ByteReader in(payload);
  std::uint64_t count = in.varint();
  std::vector<ClickEvent> events;
  for (std::uint64_t i = 0; in.ok() && i < count; ++i) {
    auto event = decode_click_event(in.str());
    if (!event) return std::nullopt;
    events.push_back(std::move(*event));
  }
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return events;
}

// The next record at the stream's position. nullopt at the end of the file or at a torn or
// corrupt record (nothing after it can be trusted); `corrupt` tells the two apart.
std::optional<std::string> read_record(std::ifstream& in, bool& corrupt) {
  char header[kHeaderBytes];
  corrupt = false;
  if (!in.read(header, kHeaderBytes)) {
    corrupt = in.gcount() != 0;
    return std::nullopt;
  }
  std::uint32_t length = get_u32(header);
  std::string payload(length <= kMaxRecordBytes ? length : 0, '\0');
  if (length > kMaxRecordBytes || !in.read(payload.data(), length) ||
      fnv1a(payload) != get_u32(header + 4)) {
    corrupt = true;
    return std::nullopt;
  }
  return payload;
}

std::uint64_t read_offset(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::uint64_t offset = 0;
  return (in >> offset) ? offset : 0;
}

}  // namespace

std::string encode_spool_record(const std::vector<ClickEvent>& events) {
  ByteWriter payload;
  payload.varint(events.size());
  for (const ClickEvent& event : events) payload.str(encode_click_event(event));
  std::string record;
  put_u32(record, static_cast<std::uint32_t>(payload.bytes().size()));
  put_u32(record, fnv1a(payload.bytes()));
  record += payload.bytes();
  return record;
}

SpoolingClickQueue::SpoolingClickQueue(ClickQueue& inner, std::filesystem::path spool_path,
                                       SpoolingClickQueueOptions options)
    : inner_(inner), spool_path_(std::move(spool_path)), options_(options) {}

SpoolingClickQueue::~SpoolingClickQueue() {
  stop();
}

void SpoolingClickQueue::start() {
  count_spooled();
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
      stop_requested_.wait_for(lock, options_.replay_interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      replay_once();
      lock.lock();
    }
  });
}

void SpoolingClickQueue::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<void> SpoolingClickQueue::push(std::vector<ClickEvent>&& events) {
  auto pushed = inner_.push(std::move(events));
  // Unreachable, or answering but refusing (out of memory, loading its AOF, stream full):
  // either way the events are safer on disk than in a replica's memory.
  if (pushed) return pushed;
  if (auto spooled = append(events); !spooled) return pushed;  // the caller keeps the events
  events.clear();
  return {};
}

Result<void> SpoolingClickQueue::append(const std::vector<ClickEvent>& events) {
  std::string record = encode_spool_record(events);
  std::lock_guard lock(file_mutex_);
  int fd = ::open(spool_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::unavailable, "cannot open spool " + spool_path_.string());
  struct stat before {};
  bool ok = fstat(fd, &before) == 0;
  for (std::size_t written = 0; ok && written < record.size();) {
    ssize_t n = ::write(fd, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && fdatasync(fd) == 0;
  // A half-written record would hide every later one from the reader: cut it off.
  if (!ok && before.st_size >= 0) (void)!ftruncate(fd, before.st_size);
  ::close(fd);
  if (!ok) return fail(Errc::unavailable, "cannot write spool " + spool_path_.string());
  spooled_.fetch_add(events.size());
  return {};
}

std::filesystem::path SpoolingClickQueue::replaying_path() const {
  auto path = spool_path_;
  path += ".replaying";
  return path;
}

void SpoolingClickQueue::replay_once() {
  std::lock_guard replay_lock(replay_mutex_);
  auto replaying = replaying_path();
  auto offset_file = replaying;
  offset_file += ".offset";
  std::error_code ec;
  // Two rounds: a replay file left by a crash, then the current spool.
  for (int round = 0; round < 2; ++round) {
    if (!std::filesystem::exists(replaying, ec)) {
      std::lock_guard lock(file_mutex_);
      if (!std::filesystem::exists(spool_path_, ec)) return;
      std::filesystem::rename(spool_path_, replaying, ec);
      if (ec) return;
    }
    if (!replay_file(replaying)) return;  // the inner queue is still refusing
    std::filesystem::remove(offset_file, ec);
    std::filesystem::remove(replaying, ec);
  }
}

bool SpoolingClickQueue::replay_file(const std::filesystem::path& file) {
  auto offset_file = file;
  offset_file += ".offset";
  std::uint64_t offset = read_offset(offset_file);
  std::ifstream in(file, std::ios::binary);
  if (!in) return true;
  in.seekg(static_cast<std::streamoff>(offset));
  for (;;) {
    bool corrupt = false;
    auto payload = read_record(in, corrupt);
    if (!payload) {
      if (corrupt) corrupt_.fetch_add(1);
      return true;
    }
    auto events = decode_payload(*payload);
    std::size_t n = events ? events->size() : 0;
    if (!events)
      corrupt_.fetch_add(1);
    else if (!inner_.push(std::move(*events)))
      return false;
    offset += kHeaderBytes + payload->size();
    std::ofstream(offset_file, std::ios::trunc) << offset;
    spooled_.fetch_sub(std::min(n, spooled_.load()));
    replayed_.fetch_add(n);
  }
}

void SpoolingClickQueue::count_spooled() {
  std::size_t total = 0;
  auto replaying = replaying_path();
  auto offset_file = replaying;
  offset_file += ".offset";
  for (const auto& [file, offset] :
       {std::pair{replaying, read_offset(offset_file)}, std::pair{spool_path_, std::uint64_t{0}}}) {
    std::ifstream in(file, std::ios::binary);
    if (!in) continue;
    in.seekg(static_cast<std::streamoff>(offset));
    bool corrupt = false;
    while (auto payload = read_record(in, corrupt))
      if (auto events = decode_payload(*payload)) total += events->size();
  }
  spooled_.store(total);
}

}  // namespace shortener
