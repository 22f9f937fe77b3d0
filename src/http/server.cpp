// The request pipeline, one coroutine per connection:
//   accept -> wait for bytes (idle deadline) -> read head (header deadline) -> read body (body
//   deadline) -> route (fast on the I/O thread; else, if the handler can fetch what the fast
//   path lacked without blocking, fast again once it has; else on the blocking pool) -> write
//   -> repeat.
// This is the only translation unit that includes Boost.Beast.
#include "http/server.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/coarse_clock.h"
#include "http/problem.h"
#include "http/wire.h"

namespace shortener::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Fills our Request straight from the parser callbacks: no Beast field container, no
// per-header allocation once the connection's strings have grown.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  RequestParser(Request& request, const ServerOptions& options) : request_(request) {
    header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    body_limit(options.max_body_bytes);
  }

 private:
  void on_request_impl(bhttp::verb verb, beast::string_view, beast::string_view target, int version,
                       beast::error_code&) override {
    request_.method = to_method(verb);
    request_.http10 = version < 11;
    request_.target.assign(target.data(), target.size());
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(bhttp::field field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    std::string_view v(value.data(), value.size());
    switch (field) {
      case bhttp::field::host:
        request_.host.assign(v);
        break;
      case bhttp::field::user_agent:
        request_.user_agent.assign(v);
        break;
      case bhttp::field::referer:
        request_.referer.assign(v);
        break;
      case bhttp::field::accept_language:
        request_.accept_language.assign(v);
        break;
      case bhttp::field::accept_encoding:
        request_.accept_encoding.assign(v);
        break;
      case bhttp::field::authorization:
        request_.authorization.assign(v);
        break;
      case bhttp::field::content_type:
        request_.content_type.assign(v);
        break;
      default:
        if (beast::iequals(name, "x-forwarded-for")) {
          if (!request_.x_forwarded_for.empty()) request_.x_forwarded_for += ", ";
          request_.x_forwarded_for.append(v);
        } else if (beast::iequals(name, "last-event-id")) {
          request_.last_event_id.assign(v);
        } else if (beast::iequals(name, "x-request-id")) {
          request_.id.assign(v);  // an unacceptable id is ignored: we make one up instead
        }
    }
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length) request_.body.reserve(*length);  // bounded by body_limit already
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  static Method to_method(bhttp::verb verb) {
    switch (verb) {
      case bhttp::verb::get:
        return Method::get;
      case bhttp::verb::head:
        return Method::head;
      case bhttp::verb::post:
        return Method::post;
      case bhttp::verb::put:
        return Method::put;
      case bhttp::verb::patch:
        return Method::patch;
      case bhttp::verb::delete_:
        return Method::delete_;
      case bhttp::verb::options:
        return Method::options;
      default:
        return Method::other;
    }
  }

  Request& request_;
};

IpAddress to_ip(const asio::ip::address& address) {
  IpAddress ip;
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), ip.bytes.begin());
    return ip;
  }
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return to_ip(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
  auto bytes = v6.to_bytes();
  std::copy(bytes.begin(), bytes.end(), ip.bytes.begin());
  ip.v4 = false;
  return ip;
}

}  // namespace

class Connection;

// One per thread: its own io_context and acceptor; connections never leave it.
struct Worker {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::unordered_set<Connection*> connections;
  bool stopping = false;
};

struct Server::Impl {
  ServerOptions options;
  RequestHandler* handler = nullptr;  // set by run()
  std::vector<std::unique_ptr<Worker>> workers;
  asio::thread_pool pool;
  std::uint16_t port = 0;
  asio::io_context control;  // signals and stop requests
  std::atomic<bool> stop_requested{false};

  // Prefetches under way: their completions post into a worker's io_context, so the server
  // (and its io_contexts) outlives every one of them (see ~Server).
  std::mutex prefetch_mutex;
  std::condition_variable prefetches_done;
  std::size_t prefetches = 0;

  explicit Impl(ServerOptions o)
      : options(std::move(o)), pool(std::max(1, options.blocking_threads)) {}
  void bind();
  void begin_stop();
  void prefetch_started() {
    std::lock_guard lock(prefetch_mutex);
    ++prefetches;
  }
  void prefetch_finished() {
    std::lock_guard lock(prefetch_mutex);
    if (--prefetches == 0) prefetches_done.notify_all();
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Worker& worker, Server::Impl& server)
      : socket_(std::move(socket)), timer_(worker.ioc), worker_(worker), server_(server) {}

  awaitable<void> serve();
  // Server stop: a connection between requests closes now; a busy one after its response.
  // A connection that has started receiving a request is in flight: it may finish within
  // the drain timeout (the watchdog re-arms on the earlier deadline).
  void on_stop() {
    if (phase_ == Phase::reading) {
      deadline_ = std::min(deadline_, SteadyClock::now() + server_.options.drain_timeout);
      timer_.cancel();
    } else if (phase_ == Phase::waiting || phase_ == Phase::streaming) {
      close();
      if (stream_timer_) stream_timer_->cancel();
    }
  }

 private:
  enum class Phase { waiting, reading, handling, writing, streaming };

  awaitable<bool> read_request();
  awaitable<void> reject(const beast::error_code& ec);
  awaitable<void> handle_request();
  awaitable<RequestHandler::FastAnswer> prefetch();
  awaitable<bool> write_response();
  awaitable<void> watchdog(std::shared_ptr<Connection> self);
  awaitable<void> stream_events();
  bool answer_read_error(const beast::error_code& ec);
  // One access-log line for the response just written; a single branch when the log is off.
  void log_access(std::chrono::nanoseconds elapsed, bool written) {
    AccessLog* log = server_.options.access_log;
    if (log == nullptr) return;
    bool body_sent = written && request_.method != Method::head && !response_.stream;
    log->record(request_, response_, elapsed, body_sent ? response_.body.size() : 0);
  }
  // Timeouts are seconds: the coarse clock is precise enough, and every request sets two.
  void set_deadline(std::chrono::seconds timeout) { deadline_ = coarse_steady_now() + timeout; }
  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  Worker& worker_;
  Server::Impl& server_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  beast::flat_buffer buffer_;
  Request request_;
  Response response_;
  std::string out_;
  Phase phase_ = Phase::waiting;
  bool first_ = true;
  std::shared_ptr<asio::steady_timer> stream_timer_;  // wakes a streaming response
};

awaitable<void> Connection::serve() {
  auto self = shared_from_this();
  worker_.connections.insert(this);
  beast::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) request_.peer = to_ip(peer.address());
  // Synchronous writes return would_block instead of waiting (write_response); Asio's async
  // operations work either way.
  socket_.non_blocking(true, ec);
  IpAddress peer_ip = request_.peer;
  set_deadline(server_.options.header_timeout);
  asio::co_spawn(worker_.ioc, watchdog(self), asio::detached);
  while (socket_.is_open()) {
    request_.reset();
    request_.peer = peer_ip;
    if (!co_await read_request()) break;
    auto started = SteadyClock::now();
    co_await handle_request();
    bool written = co_await write_response();
    auto elapsed = SteadyClock::now() - started;
    if (auto* observer = server_.options.observer)
      observer->observe(response_.route, response_.status, elapsed);
    log_access(elapsed, written);
    if (!written) break;
    if (response_.stream) {
      if (request_.method != Method::head) co_await stream_events();
      break;
    }
    if (response_.close || !request_.keep_alive || worker_.stopping) break;
  }
  close();
  timer_.cancel();
  worker_.connections.erase(this);
}

awaitable<bool> Connection::read_request() {
  const auto& options = server_.options;
  phase_ = Phase::waiting;
  if (worker_.stopping) co_return false;
  if (buffer_.size() == 0 && !first_) {
    // Idle keep-alive: wait for the first byte under the idle deadline, then give the whole
    // head the (shorter) header deadline, so a slow sender cannot hold the connection.
    // The wait is a read: Asio's async_wait re-arms epoll (an epoll_ctl per request), a read
    // that finds the socket drained waits on the registration it has.
    set_deadline(options.idle_timeout);
    constexpr std::size_t kFirstRead = 4096;
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kFirstRead), kTuple);
    if (ec || worker_.stopping) co_return false;
    buffer_.commit(n);
  }
  first_ = false;
  phase_ = Phase::reading;
  set_deadline(options.header_timeout);
  RequestParser parser(request_, options);
  // The read above usually brought the whole head: parse it in place. Beast's async_read_header
  // would parse the same bytes, but as a composed operation that completes through the event
  // loop (a post and a coroutine resume per request). Only a head still incomplete reads more.
  beast::error_code ec;
  if (buffer_.size() != 0) {
    buffer_.consume(parser.put(buffer_.data(), ec));
    if (ec == bhttp::error::need_more) ec = {};
  }
  if (!ec && !parser.is_header_done())
    std::tie(ec, std::ignore) = co_await bhttp::async_read_header(socket_, buffer_, parser, kTuple);
  if (ec) {
    co_await reject(ec);
    co_return false;
  }
  if (request_.id.empty()) request_.id.generate();
  if (!parser.is_done()) {
    set_deadline(options.body_timeout);
    auto [body_ec, body_n] = co_await bhttp::async_read(socket_, buffer_, parser, kTuple);
    if (body_ec) {
      co_await reject(body_ec);
      co_return false;
    }
  }
  request_.keep_alive = parser.keep_alive();
  request_.split_target();
  co_return true;
}

// Bad requests get a short plain answer before the connection closes; a peer that went
// away or timed out gets nothing.
awaitable<void> Connection::reject(const beast::error_code& ec) {
  if (!answer_read_error(ec)) co_return;
  bool written = co_await write_response();
  log_access(std::chrono::nanoseconds(0), written);
}

// Fills in the answer to a failed read; returns whether there is one to write.
bool Connection::answer_read_error(const beast::error_code& ec) {
  response_.reset();
  response_.close = true;
  if (request_.method == Method::head) request_.method = Method::get;  // the answer has a body
  bool api = std::string_view(request_.target).starts_with("/api/");
  if (ec == bhttp::error::header_limit) {
    response_.set(431, kTextPlain, "request header fields too large\n");
  } else if (ec == bhttp::error::body_limit) {
    if (api) {
      problem(response_, Errc::payload_too_large,
              "request body exceeds " + std::to_string(server_.options.max_body_bytes) + " bytes");
    } else {
      response_.set(413, kTextPlain, "request body too large\n");
    }
  } else if (ec.category() == bhttp::make_error_code(bhttp::error::body_limit).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    response_.set(400, kTextPlain, "malformed HTTP request\n");
  } else {
    return false;
  }
  response_.route = "bad_request";
  if (request_.id.empty()) request_.id.generate();
  if (auto* observer = server_.options.observer)
    observer->observe(response_.route, response_.status, std::chrono::nanoseconds(0));
  return true;
}

awaitable<void> Connection::handle_request() {
  phase_ = Phase::handling;
  deadline_ = SteadyClock::time_point::max();  // our own work is not the client's fault
  response_.reset();
  try {
    if (server_.handler->try_handle_fast(request_, response_)) co_return;
    if (auto answer = co_await prefetch(); answer && answer(request_, response_)) co_return;
    co_await asio::co_spawn(
        server_.pool,
        [this]() -> awaitable<void> {
          server_.handler->handle(request_, response_);
          co_return;
        },
        asio::use_awaitable);
  } catch (const std::exception&) {
    response_.reset();
    response_.set(500, kTextPlain, "internal error\n");
  }
}

// The completion of one prefetch: posts the answer to the connection's thread, where the
// awaiting coroutine resumes, exactly once. Dropped without being called (a handler that lost
// it, an exception) it completes with no answer, so the request takes the blocking pool and
// the server's prefetch count still drops. It holds the work guard that keeps the io_context
// running (a graceful stop drains) until the answer is posted, and releases it before the count
// drops (the count keeps the server, and so the io_context, alive: ~Server).
template <typename Handler, typename Work>
class PrefetchCompletion {
 public:
  PrefetchCompletion(Handler handler, Work work, Server::Impl& server)
      : handler_(std::move(handler)), work_(std::move(work)), server_(&server) {
    server.prefetch_started();
  }
  PrefetchCompletion(PrefetchCompletion&& other) noexcept
      : handler_(std::move(other.handler_)),
        work_(std::move(other.work_)),
        server_(std::exchange(other.server_, nullptr)) {}
  PrefetchCompletion& operator=(PrefetchCompletion&&) = delete;
  ~PrefetchCompletion() { complete(nullptr); }

  void operator()(RequestHandler::FastAnswer answer) { complete(std::move(answer)); }

 private:
  void complete(RequestHandler::FastAnswer answer) {
    Server::Impl* server = std::exchange(server_, nullptr);
    if (server == nullptr) return;
    {
      auto executor = std::move(work_);
      asio::post(executor, [handler = std::move(handler_), answer = std::move(answer)]() mutable {
        std::move(handler)(std::move(answer));
      });
    }
    server->prefetch_finished();
  }

  Handler handler_;
  Work work_;
  Server::Impl* server_;
};

// Lets the handler fetch, without blocking, what the fast path lacked (a redirect's link from
// Redis); resumes on this connection's thread with the answer it found, if any.
awaitable<RequestHandler::FastAnswer> Connection::prefetch() {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(RequestHandler::FastAnswer)>(
      [this](auto handler) {
        PrefetchCompletion completion(
            std::move(handler),
            asio::prefer(worker_.ioc.get_executor(), asio::execution::outstanding_work.tracked),
            server_);
        try {
          server_.handler->prefetch(request_, std::move(completion));
        } catch (...) {
          // Whoever held the completion dropped it, or it is still here: either way it
          // completes (empty) exactly once, and the request takes the blocking pool.
        }
      },
      asio::use_awaitable);
}

awaitable<bool> Connection::write_response() {
  phase_ = Phase::writing;
  // A streamed body ends when the connection closes, so the head says Connection: close.
  bool keep_alive =
      request_.keep_alive && !response_.close && !worker_.stopping && !response_.stream;
  response_.close = !keep_alive;
  response_.request_id = request_.id.view();
  serialize_response(response_, request_.method == Method::head, keep_alive, request_.http10, out_);
  set_deadline(server_.options.idle_timeout);  // a client that stops reading is dropped
  // A response (a redirect is ~300 bytes) almost always fits the socket's send buffer: write
  // it now (the socket is non-blocking) and wait through the event loop only for what does
  // not fit, instead of a composed async_write completing through the loop every time.
  beast::error_code ec;
  std::size_t sent = socket_.write_some(asio::buffer(out_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (!ec && sent < out_.size())
    std::tie(ec, std::ignore) =
        co_await asio::async_write(socket_, asio::buffer(out_) + sent, kTuple);
  if (worker_.stopping && !response_.close) response_.close = true;
  co_return !ec;
}

// Streams until the source ends, the client goes away, or the server stops. Wakes come from
// other threads as a posted cancel of stream_timer_; a timeout means "send a heartbeat".
// After every write the source is polled again, so a wake that arrived mid-write is not lost.
awaitable<void> Connection::stream_events() {
  phase_ = Phase::streaming;
  deadline_ = SteadyClock::time_point::max();  // liveness comes from heartbeat writes
  stream_timer_ = std::make_shared<asio::steady_timer>(worker_.ioc);
  std::weak_ptr<asio::steady_timer> weak_timer = stream_timer_;
  auto executor = worker_.ioc.get_executor();
  response_.stream->start([weak_timer, executor] {
    asio::post(executor, [weak_timer] {
      if (auto timer = weak_timer.lock()) timer->cancel();
    });
  });
  while (socket_.is_open() && !worker_.stopping) {
    out_.clear();
    bool more = response_.stream->poll(out_);
    if (!more && out_.empty()) break;
    if (!out_.empty()) {
      [[maybe_unused]] auto [ec, n] =
          co_await asio::async_write(socket_, asio::buffer(out_), kTuple);
      if (ec) break;
      continue;  // a wake may have come while writing: poll again before waiting
    }
    stream_timer_->expires_after(server_.options.heartbeat_interval);
    auto [ec] = co_await stream_timer_->async_wait(kTuple);
    if (!ec && !response_.stream->heartbeat().empty()) {
      auto beat = response_.stream->heartbeat();
      [[maybe_unused]] auto [write_ec, written] =
          co_await asio::async_write(socket_, asio::buffer(beat), kTuple);
      if (write_ec) break;
    }
  }
  stream_timer_.reset();
}

awaitable<void> Connection::watchdog(std::shared_ptr<Connection> self) {
  while (socket_.is_open()) {
    timer_.expires_at(deadline_);
    co_await timer_.async_wait(kTuple);  // expiry or cancel: either way, re-check the deadline
    if (!socket_.is_open()) break;
    if (SteadyClock::now() >= deadline_) {
      close();
      break;
    }
  }
}

void Server::Impl::bind() {
  auto address = asio::ip::make_address(options.host);
  tcp::endpoint endpoint(address, options.port);
  for (int i = 0; i < options.threads; ++i) {
    auto worker = std::make_unique<Worker>();
    auto& acceptor = worker->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    // Each thread accepts on its own socket; the kernel spreads connections across them.
    acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    if (i == 0) endpoint.port(port = acceptor.local_endpoint().port());
    workers.push_back(std::move(worker));
  }
}

void Server::Impl::begin_stop() {
  if (stop_requested.exchange(true)) return;
  for (auto& worker : workers) {
    asio::post(worker->ioc, [w = worker.get()] {
      w->stopping = true;
      beast::error_code ignored;
      w->acceptor.close(ignored);
      // on_stop may end a connection, which erases it from the set: iterate over a copy.
      std::vector<Connection*> live(w->connections.begin(), w->connections.end());
      for (Connection* c : live)
        if (w->connections.contains(c)) c->on_stop();
    });
  }
}

namespace {

awaitable<void> accept_loop(Worker& worker, Server::Impl& server) {
  asio::steady_timer backoff(worker.ioc);
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor.async_accept(kTuple);
    if (worker.stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {  // EMFILE and friends: do not spin, let connections finish
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket), worker, server);
    asio::co_spawn(worker.ioc, connection->serve(), asio::detached);
  }
}

}  // namespace

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->bind();
}

Server::~Server() {
  impl_->pool.join();
  // A prefetch completes exactly once, bounded by the handler's own timeouts (RequestHandler).
  std::unique_lock lock(impl_->prefetch_mutex);
  impl_->prefetches_done.wait(lock, [this] { return impl_->prefetches == 0; });
}

std::uint16_t Server::port() const {
  return impl_->port;
}

void Server::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_stop(); });
}

void Server::run(RequestHandler& handler, std::function<void()> on_sighup) {
  Impl& impl = *impl_;
  impl.handler = &handler;
  std::mutex mutex;
  std::condition_variable all_done;
  int running = static_cast<int>(impl.workers.size());
  std::vector<std::thread> threads;
  for (auto& worker : impl.workers) {
    asio::co_spawn(worker->ioc, accept_loop(*worker, impl), asio::detached);
    threads.emplace_back([&, w = worker.get()] {
      w->ioc.run();
      std::lock_guard lock(mutex);
      if (--running == 0) all_done.notify_all();
    });
  }

  asio::signal_set signals(impl.control, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const beast::error_code&, int)> on_signal = [&](const beast::error_code& ec,
                                                                     int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (on_sighup) on_sighup();
      signals.async_wait(on_signal);
      return;
    }
    impl.begin_stop();
  };
  signals.async_wait(on_signal);
  // The control loop ends once a stop began: stop() posts begin_stop, signals call it.
  auto guard = asio::make_work_guard(impl.control);
  while (!impl.stop_requested) impl.control.run_for(std::chrono::milliseconds(100));
  signals.cancel();

  {
    std::unique_lock lock(mutex);
    if (!all_done.wait_for(lock, impl.options.drain_timeout, [&] { return running == 0; })) {
      for (auto& worker : impl.workers) worker->ioc.stop();  // stragglers: give up on them
    }
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace shortener::http
