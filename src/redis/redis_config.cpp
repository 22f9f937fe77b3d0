#include "redis/redis_config.h"

#include <charconv>
#include <optional>

namespace shortener {

namespace {

std::optional<int> parse_int(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

// Percent-decoding for the password: it may hold '@', ':' or '/'.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int byte = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, byte, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

}  // namespace

Result<RedisConfig> parse_redis_url(std::string_view url) {
  auto invalid = [&](std::string_view why) {
    return fail(Errc::invalid_input, "invalid Redis URL (" + std::string(why) +
                                         "): expected redis://[:password@]host[:port][/db]");
  };
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return invalid("scheme");
  std::string_view rest = url.substr(kScheme.size());
  RedisConfig config;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    auto password =
        percent_decode(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
    if (!password) return invalid("password encoding");
    config.password = std::move(*password);
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path =
      authority.size() < rest.size() ? rest.substr(authority.size() + 1) : std::string_view{};
  if (!path.empty()) {
    auto db = parse_int(path, 0, 1'000'000);
    if (!db) return invalid("database number");
    config.db = *db;
  }
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.starts_with('[')) {  // [::1]:6379
    auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid("IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return invalid("port");
    if (!after.empty()) port_text = after.substr(1);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (!port_text.empty() || authority.ends_with(':')) {
    auto port = parse_int(port_text, 1, 65535);
    if (!port) return invalid("port");
    config.port = *port;
  }
  if (host.empty()) return invalid("host");
  config.host = std::string(host);
  return config;
}

std::string redacted_url(const RedisConfig& config) {
  bool v6 = config.host.find(':') != std::string::npos;
  return "redis://" + std::string(config.password.empty() ? "" : ":***@") +
         (v6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port) + "/" +
         std::to_string(config.db);
}

}  // namespace shortener
