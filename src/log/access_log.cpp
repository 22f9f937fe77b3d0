#include "log/access_log.h"

#include <charconv>

#include "log/json.h"

namespace shortener::logging {

namespace {

std::string_view method_name(http::Method method) {
  switch (method) {
    case http::Method::get:
      return "GET";
    case http::Method::head:
      return "HEAD";
    case http::Method::post:
      return "POST";
    case http::Method::put:
      return "PUT";
    case http::Method::patch:
      return "PATCH";
    case http::Method::delete_:
      return "DELETE";
    case http::Method::options:
      return "OPTIONS";
    default:
      return "OTHER";
  }
}

template <class Number>
void append_number(std::string& out, Number n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// Appends `,"name":` (json) or ` name=` (text); the first field has no separator.
void append_key(Format format, std::string_view name, std::string& out) {
  if (format == Format::json) {
    out += ",\"";
    out += name;
    out += "\":";
  } else {
    out += ' ';
    out += name;
    out += '=';
  }
}

void append_string(Format format, std::string_view name, std::string_view value, std::string& out) {
  append_key(format, name, out);
  append_json_string(out, value);
}

// Values known to be plain tokens (request ids, labels, addresses) go unquoted in text.
void append_token(Format format, std::string_view name, std::string_view value, std::string& out) {
  if (format == Format::json) return append_string(format, name, value, out);
  append_key(format, name, out);
  out += value;
}

template <class Number>
void append_field(Format format, std::string_view name, Number value, std::string& out) {
  append_key(format, name, out);
  append_number(out, value);
}

}  // namespace

std::string_view truncate_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

void render_access_entry(Format format, const AccessEntry& e, std::string& out) {
  if (format == Format::json)
    out += R"("msg":"request")";
  else
    out += "request";
  append_token(format, "request_id", e.request_id, out);
  append_token(format, "method", e.method, out);
  append_string(format, "path", truncate_utf8(e.path, kMaxLoggedPath), out);
  append_field(format, "status", e.status, out);
  append_field(format, "duration_us", e.duration_us, out);
  append_field(format, "bytes", e.bytes, out);
  append_token(format, "client", e.client.to_string(), out);
  append_token(format, "peer", e.peer.to_string(), out);
  append_token(format, "route", e.route.empty() ? std::string_view("other") : e.route, out);
  append_string(format, "user_agent", truncate_utf8(e.user_agent, kMaxLoggedUserAgent), out);
}

SpdlogAccessLog::SpdlogAccessLog(std::shared_ptr<spdlog::logger> logger, Format format,
                                 std::vector<Cidr> trusted_proxies)
    : logger_(std::move(logger)), format_(format), trusted_proxies_(std::move(trusted_proxies)) {}

void SpdlogAccessLog::record(const http::Request& request, const http::Response& response,
                             std::chrono::nanoseconds elapsed, std::size_t body_bytes) {
  AccessEntry entry{
      .request_id = request.id.view(),
      .method = method_name(request.method),
      .path = request.path.empty() ? std::string_view(request.target)
                                         .substr(0, std::string_view(request.target).find('?'))
                                   : request.path,
      .status = response.status,
      .duration_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
      .bytes = body_bytes,
      .client = client_address(request.peer, request.x_forwarded_for, trusted_proxies_),
      .peer = request.peer,
      .route = response.route,
      .user_agent = request.user_agent,
  };
  thread_local std::string line;  // keeps its capacity: no allocation per line once grown
  line.clear();
  render_access_entry(format_, entry, line);
  logger_->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace shortener::logging
