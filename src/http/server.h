// The HTTP/1.1 server: Boost.Beast parsing + Asio C++20 coroutines, confined to server.cpp.
// One io_context and one SO_REUSEPORT acceptor per thread, so a connection lives on one thread
// and needs no strand; one watchdog timer per connection enforces header/body/idle deadlines.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/response.h"

namespace shortener::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0: any free port; port() tells which
  int threads = 1;
  int blocking_threads = 8;  // pool for handlers that touch the store
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds idle_timeout{60};
  std::chrono::milliseconds drain_timeout{4500};  // SIGTERM: in-flight requests get this long
  std::chrono::seconds heartbeat_interval{15};    // event streams: comment line when idle
  RequestObserver* observer = nullptr;            // metrics; may be null
  AccessLog* access_log = nullptr;                // null: no access log
};

class Server {
 public:
  // Binds immediately (throws std::system_error when the address is unavailable), so the
  // bound port is known before the handler, which may need it, is built.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  // Serves until SIGTERM/SIGINT or stop(); then drains in-flight requests and returns.
  // on_sighup runs on SIGHUP (reload hooks).
  void run(RequestHandler& handler, std::function<void()> on_sighup = {});
  // Thread-safe; begins the graceful stop.
  void stop();

  struct Impl;  // server.cpp: keeps Asio out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace shortener::http
