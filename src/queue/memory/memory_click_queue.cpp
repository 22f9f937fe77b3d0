#include "queue/memory/memory_click_queue.h"

#include <cstring>
#include <fstream>

namespace shortener {

MemoryClickQueue::MemoryClickQueue(std::size_t capacity) : capacity_(capacity) {}

Result<void> MemoryClickQueue::push(std::vector<ClickEvent>&& events) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return fail(Errc::unavailable, "click queue is closed");
    if (events_.size() + events.size() > capacity_)
      return fail(Errc::unavailable, "click queue is full");
    for (auto& event : events) events_.push_back(std::move(event));
    events.clear();
  }
  ready_.notify_all();
  return {};
}

Result<ClickDelivery> MemoryClickQueue::pop(std::size_t max, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, wait, [&] { return !events_.empty() || closed_; });
  ClickDelivery delivery;
  std::size_t n = std::min(max, events_.size());
  if (n == 0) return delivery;
  delivery.events.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    delivery.events.push_back(std::move(events_.front()));
    events_.pop_front();
  }
  delivery.token = next_token_++;
  // Kept until ack: nack or a shutdown spool needs them. The copy is the price of a queue that
  // can give a batch back; it is off the redirect path.
  in_flight_.emplace(delivery.token, delivery.events);
  return delivery;
}

Result<void> MemoryClickQueue::ack(const ClickDelivery& delivery) {
  std::unique_lock lock(mutex_);
  in_flight_.erase(delivery.token);
  check_drained(lock);
  return {};
}

void MemoryClickQueue::nack(ClickDelivery delivery) {
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(delivery.token);
    for (auto it = delivery.events.rbegin(); it != delivery.events.rend(); ++it)
      events_.push_front(std::move(*it));
  }
  ready_.notify_all();
}

std::size_t MemoryClickQueue::size() const {
  std::lock_guard lock(mutex_);
  std::size_t n = events_.size();
  for (const auto& [token, events] : in_flight_) n += events.size();
  return n;
}

void MemoryClickQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

std::vector<ClickEvent> MemoryClickQueue::take_all() {
  std::lock_guard lock(mutex_);
  std::vector<ClickEvent> all;
  for (auto& [token, events] : in_flight_)
    for (auto& event : events) all.push_back(std::move(event));
  in_flight_.clear();
  for (auto& event : events_) all.push_back(std::move(event));
  events_.clear();
  return all;
}

void MemoryClickQueue::on_drained(std::function<void()> callback) {
  std::unique_lock lock(mutex_);
  drained_ = std::move(callback);
  check_drained(lock);
}

void MemoryClickQueue::check_drained(std::unique_lock<std::mutex>& lock) {
  if (!drained_ || !events_.empty() || !in_flight_.empty()) return;
  auto callback = std::move(drained_);
  drained_ = nullptr;
  lock.unlock();
  callback();
}

namespace {

// Version 2: field 7 is the raw query (version 1 held a decoded utm_source).
constexpr char kSpoolMagic[8] = {'S', 'H', 'C', 'L', 'K', 'S', 'P', '2'};

void put_string(std::ofstream& out, const std::string& s) {
  auto n = static_cast<std::uint32_t>(s.size());
  out.write(reinterpret_cast<const char*>(&n), sizeof n);
  out.write(s.data(), n);
}
template <class T>
void put_int(std::ofstream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}
bool get_string(std::ifstream& in, std::string& s) {
  std::uint32_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), sizeof n) || n > (1u << 20)) return false;
  s.resize(n);
  return static_cast<bool>(in.read(s.data(), n));
}
template <class T>
bool get_int(std::ifstream& in, T& v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&v), sizeof v));
}

}  // namespace

Result<void> write_spool(const std::filesystem::path& path, const std::vector<ClickEvent>& events) {
  auto temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return fail(Errc::unavailable, "cannot write spool " + temp.string());
    out.write(kSpoolMagic, sizeof kSpoolMagic);
    put_int<std::uint64_t>(out, events.size());
    for (const ClickEvent& e : events) {
      put_int(out, e.link_id);
      put_int(out, e.account_id);
      put_int(out, e.at);
      for (const std::string* s : {&e.id, &e.slug, &e.ip, &e.user_agent, &e.referer,
                                   &e.accept_language, &e.query, &e.destination})
        put_string(out, *s);
    }
    out.flush();
    if (!out) return fail(Errc::unavailable, "cannot write spool " + temp.string());
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return fail(Errc::unavailable, "cannot rename spool: " + ec.message());
  return {};
}

Result<std::vector<ClickEvent>> read_spool(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::not_found, "no spool at " + path.string());
  char magic[sizeof kSpoolMagic];
  std::uint64_t count = 0;
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kSpoolMagic, sizeof magic) != 0 ||
      !get_int(in, count))
    return fail(Errc::internal, "not a click spool file: " + path.string());
  std::vector<ClickEvent> events;
  for (std::uint64_t i = 0; i < count; ++i) {
    ClickEvent e;
    bool ok = get_int(in, e.link_id) && get_int(in, e.account_id) && get_int(in, e.at);
    for (std::string* s : {&e.id, &e.slug, &e.ip, &e.user_agent, &e.referer, &e.accept_language,
                           &e.query, &e.destination})
      ok = ok && get_string(in, *s);
    if (!ok) return fail(Errc::internal, "truncated click spool file: " + path.string());
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace shortener
