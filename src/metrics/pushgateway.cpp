#include "metrics/pushgateway.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <memory>

namespace shortener::metrics {

namespace {

Error unavailable(std::string detail) {
  return Error{Errc::unavailable, std::move(detail)};
}

// Path segments of the grouping key: anything outside [A-Za-z0-9_.-] is percent-encoded.
std::string encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<PushTarget> parse_push_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  auto invalid = [&] {
    return std::unexpected(
        Error{Errc::invalid_input,
              "--pushgateway-url must be http://HOST[:PORT][/PATH], got " + std::string(url)});
  };
  if (!url.starts_with(kScheme)) return invalid();
  url.remove_prefix(kScheme.size());
  PushTarget target;
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) target.path_prefix = std::string(url.substr(slash));
  while (target.path_prefix.ends_with('/')) target.path_prefix.pop_back();
  std::string_view host = authority, port_text;
  if (authority.starts_with('[')) {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid();
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid();
      port_text = rest.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return invalid();
    target.port = static_cast<std::uint16_t>(port);
  }
  if (host.empty()) return invalid();
  target.host = std::string(host);
  return target;
}

Result<void> push(const PushTarget& target, std::string_view job, std::string_view instance,
                  std::string_view exposition, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(target.port);
  if (int rc = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return std::unexpected(unavailable("pushgateway " + target.host + ": " + gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);

  timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
             .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  Fd socket;
  for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
    Fd candidate{::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol)};
    if (candidate.fd < 0) continue;
    ::setsockopt(candidate.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(candidate.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(candidate.fd, a->ai_addr, a->ai_addrlen) == 0) {
      std::swap(socket.fd, candidate.fd);
      break;
    }
  }
  if (socket.fd < 0)
    return std::unexpected(
        unavailable("pushgateway " + target.host + ":" + port + " does not accept connections"));

  std::string request = "PUT " + target.path_prefix + "/metrics/job/" + encode_segment(job) +
                        "/instance/" + encode_segment(instance) +
                        " HTTP/1.1\r\nHost: " + target.host + ":" + port +
                        "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                        std::to_string(exposition.size()) + "\r\nConnection: close\r\n\r\n";
  request.append(exposition);
  for (std::size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(socket.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return std::unexpected(unavailable("pushgateway: send failed or timed out"));
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buffer[512];
  while (answer.find("\r\n") == std::string::npos && answer.size() < 4096) {
    ssize_t n = ::recv(socket.fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  std::string status_line = answer.substr(0, answer.find("\r\n"));
  // "HTTP/1.1 200 OK": the status code is the second word.
  if (status_line.size() >= 12 && status_line.starts_with("HTTP/1.") && status_line[9] == '2')
    return {};
  return std::unexpected(unavailable("pushgateway answered " +
                                     (status_line.empty() ? std::string("nothing") : status_line)));
}

}  // namespace shortener::metrics
