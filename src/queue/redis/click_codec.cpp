#include "queue/redis/click_codec.h"

#include "redis/byte_codec.h"

namespace shortener {

namespace {

constexpr std::uint8_t kEventVersion = 1;
constexpr std::uint8_t kBatchVersion = 1;
// No encoded event is smaller (11 fields, each at least one byte).
constexpr std::size_t kMinEventBytes = 11;

void write_event(ByteWriter& out, const ClickEvent& e) {
  out.str(e.id);
  out.i64(e.link_id);
  out.i64(e.account_id);
  out.str(e.slug);
  out.i64(e.at);
  out.str(e.ip);
  out.str(e.user_agent);
  out.str(e.referer);
  out.str(e.accept_language);
  out.str(e.query);
  out.str(e.destination);
}

ClickEvent read_event(ByteReader& in) {
  ClickEvent e;
  e.id = in.str();
  e.link_id = in.i64();
  e.account_id = in.i64();
  e.slug = in.str();
  e.at = in.i64();
  e.ip = in.str();
  e.user_agent = in.str();
  e.referer = in.str();
  e.accept_language = in.str();
  e.query = in.str();
  e.destination = in.str();
  return e;
}

}  // namespace

std::string encode_click_event(const ClickEvent& e) {
  ByteWriter out;
  out.u8(kEventVersion);
  write_event(out, e);
  return std::move(out.bytes());
}

std::optional<ClickEvent> decode_click_event(std::string_view bytes) {
  ByteReader in(bytes);
  if (in.u8() != kEventVersion) return std::nullopt;
  ClickEvent e = read_event(in);
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return e;
}

std::string encode_click_batch(std::span<const ClickEvent> events) {
  return encode_list(kBatchVersion, events, write_event);
}

std::optional<std::vector<ClickEvent>> decode_click_batch(std::string_view bytes) {
  auto events = decode_list<ClickEvent>(bytes, kBatchVersion, kMinEventBytes, read_event);
  if (!events || events->empty()) return std::nullopt;
  return events;
}

}  // namespace shortener
