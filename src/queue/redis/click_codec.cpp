#include "queue/redis/click_codec.h"

#include "redis/byte_codec.h"

namespace shortener {

namespace {
constexpr std::uint8_t kVersion = 1;
}

std::string encode_click_event(const ClickEvent& e) {
  ByteWriter out;
  out.u8(kVersion);
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
  return std::move(out.bytes());
}

std::optional<ClickEvent> decode_click_event(std::string_view bytes) {
  ByteReader in(bytes);
  if (in.u8() != kVersion) return std::nullopt;
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
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return e;
}

}  // namespace shortener
