#include "core/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace shortener {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')  // "[v6]" as in URLs
    text = text.substr(1, text.size() - 2);
  // Longest textual IPv6 is 45 chars; refuse anything longer before copying.
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  if (std::memcmp(ip.bytes.data(), kMappedPrefix, 12) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::memset(ip.bytes.data() + 4, 0, 12);
    return ip;
  }
  ip.v4 = false;
  return ip;
}

std::string IpAddress::to_string() const {
  if (v4) {  // every redirect records one: digits by hand, not inet_ntop's sprintf
    char buf[16];
    char* out = buf;
    for (int i = 0; i < 4; ++i) {
      unsigned octet = bytes[i];
      if (i > 0) *out++ = '.';
      if (octet >= 100) *out++ = static_cast<char>('0' + octet / 100);
      if (octet >= 10) *out++ = static_cast<char>('0' + octet / 10 % 10);
      *out++ = static_cast<char>('0' + octet % 10);
    }
    return std::string(buf, out);
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  text = trim(text);
  auto slash = text.find('/');
  auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip) return fail(Errc::invalid_input, "'" + std::string(text) + "' is not an IP range");
  int max_prefix = ip->v4 ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || prefix < 0 ||
        prefix > max_prefix)
      return fail(Errc::invalid_input, "'" + std::string(text) + "' has a bad prefix length");
  }
  return Cidr{*ip, prefix};
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v4 != network.v4) return false;
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(ip.bytes.data(), network.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == (network.bytes[full] & mask);
}

Result<std::vector<Cidr>> parse_cidr_list(std::string_view text) {
  std::vector<Cidr> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) {
      auto cidr = Cidr::parse(item);
      if (!cidr) return std::unexpected(cidr.error());
      out.push_back(*cidr);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool is_trusted(const IpAddress& ip, const std::vector<Cidr>& trusted) {
  for (const Cidr& range : trusted)
    if (range.contains(ip)) return true;
  return false;
}

IpAddress client_address(const IpAddress& peer, std::string_view x_forwarded_for,
                         const std::vector<Cidr>& trusted) {
  IpAddress current = peer;
  while (is_trusted(current, trusted) && !x_forwarded_for.empty()) {
    auto comma = x_forwarded_for.rfind(',');
    auto item = x_forwarded_for.substr(comma == std::string_view::npos ? 0 : comma + 1);
    auto hop = IpAddress::parse(item);
    if (!hop) break;
    current = *hop;
    x_forwarded_for =
        comma == std::string_view::npos ? std::string_view{} : x_forwarded_for.substr(0, comma);
  }
  return current;
}

}  // namespace shortener
