#include "http/wire.h"

#include <charconv>
#include <ctime>

namespace shortener::http {

namespace {

// IMF-fixdate of the current second, formatted once per second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char text[32];
  thread_local std::size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {text, length};
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

void serialize_response(const Response& response, bool head_only, bool keep_alive, bool http10,
                        std::string& out) {
  out.clear();
  char number[24];
  auto status_end = std::to_chars(number, number + sizeof number, response.status).ptr;
  out.append("HTTP/1.1 ");
  out.append(number, status_end);
  out.push_back(' ');
  out.append(reason_phrase(response.status));
  out.append("\r\nServer: shortener\r\n");
  append_header(out, "Date", http_date());
  if (!response.content_type.empty()) append_header(out, "Content-Type", response.content_type);
  if (!response.location.empty()) append_header(out, "Location", response.location);
  if (!response.cache_control.empty()) append_header(out, "Cache-Control", response.cache_control);
  for (const auto& [name, value] : response.headers) append_header(out, name, value);
  if (!response.request_id.empty()) append_header(out, "X-Request-Id", response.request_id);
  if (response.status != 204 && !response.stream) {
    auto length_end = std::to_chars(number, number + sizeof number, response.body.size()).ptr;
    append_header(out, "Content-Length", std::string_view(number, length_end - number));
  }
  if (!keep_alive)
    out.append("Connection: close\r\n");
  else if (http10)
    out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
  if (!head_only) out.append(response.body);
}

}  // namespace shortener::http
