// The response a handler fills in. The server serialises it; for HEAD it sends the head only.
// Reused per connection (reset() keeps capacity), so steady-state responses do not allocate.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ports.h"
#include "http/request.h"

namespace shortener::http {

// A response body produced over time (server-sent events). The server writes the head, then
// alternates poll() and waiting for wake() or a heartbeat interval, until poll() returns false
// or the client goes away.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Called once on the connection's thread; `wake` may then be called from any thread.
  virtual void start(std::function<void()> wake) = 0;
  // Appends what is ready to `out`; false ends the stream (after `out` is written).
  virtual bool poll(std::string& out) = 0;
  // Written when nothing was sent for a heartbeat interval, so proxies and clients see life
  // (empty: the format has no comments, send nothing).
  virtual std::string_view heartbeat() const { return ": ping\n\n"; }
};

struct Response {
  int status = 200;
  std::string_view content_type;   // must point at static storage
  std::string_view cache_control;  // likewise
  std::string_view location;       // points into `pinned` or `headers` storage
  CachedLinkPtr pinned;            // keeps a cached link's URL alive while it is written
  std::vector<std::pair<std::string_view, std::string>> headers;  // name: static storage
  std::string body;
  std::shared_ptr<EventStream> stream;  // set: no Content-Length, body streamed until close
  std::string_view route;               // metrics label set by the router (static storage)
  std::string_view request_id;          // sent as X-Request-Id; set by the server
  bool close = false;                   // send Connection: close and close after writing

  void reset() {
    status = 200;
    content_type = cache_control = location = {};
    pinned.reset();
    headers.clear();
    body.clear();
    stream.reset();
    route = request_id = {};
    close = false;
  }
  void set(int code, std::string_view type, std::string text) {
    status = code;
    content_type = type;
    body = std::move(text);
  }
};

// Told about every answered request (metrics). Called on I/O threads: must be cheap and
// thread-safe.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void observe(std::string_view route, int status, std::chrono::nanoseconds elapsed) = 0;
};

// Told about every answered request when the access log is on (null: off, one branch per
// request). Called on I/O threads after the response was written: must be thread-safe.
// `body_bytes` is what was sent of the body (0 for HEAD; for event streams, the head only).
class AccessLog {
 public:
  virtual ~AccessLog() = default;
  virtual void record(const Request& request, const Response& response,
                      std::chrono::nanoseconds elapsed, std::size_t body_bytes) = 0;
};

// Handles requests for the server. try_handle_fast runs on an I/O thread and must not block;
// when it returns false the server calls prefetch(), and runs the answer that completes it
// on the I/O thread; when there is none (or it declines) the server runs handle() on a pool
// where blocking store calls are fine.
class RequestHandler {
 public:
  // Answers the request on an I/O thread with what a prefetch found; false: it cannot.
  using FastAnswer = std::move_only_function<bool(const Request&, Response&)>;
  using PrefetchDone = std::move_only_function<void(FastAnswer answer)>;
  virtual ~RequestHandler() = default;
  virtual bool try_handle_fast(const Request& request, Response& response) = 0;
  // Starts fetching, without blocking, what the fast path lacked for this request (e.g. a
  // link from Redis). `done` runs exactly once, on any thread, possibly before prefetch
  // returns, with an answer or an empty one (take the pool).
  virtual void prefetch(const Request& request, PrefetchDone done) {
    static_cast<void>(request);
    done(nullptr);
  }
  virtual void handle(const Request& request, Response& response) = 0;
};

}  // namespace shortener::http
