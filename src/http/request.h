// The parsed HTTP request as handlers see it: plain strings, no Beast types. The server reuses
// one Request per connection, so its strings keep their capacity across keep-alive requests.
#pragma once

#include <string>
#include <string_view>

#include "core/ip.h"
#include "http/request_id.h"

namespace shortener::http {

enum class Method { get, head, post, put, patch, delete_, options, other };

struct Request {
  Method method = Method::other;
  std::string target;     // as received: path plus optional ?query
  std::string_view path;  // views into target
  std::string_view query;
  std::string host;
  std::string user_agent;
  std::string referer;
  std::string accept_language;
  std::string accept_encoding;
  std::string authorization;
  std::string content_type;
  std::string x_forwarded_for;  // repeated headers joined with ", "
  std::string last_event_id;
  std::string body;
  IpAddress peer;  // the TCP peer
  RequestId id;    // X-Request-Id when sane, else generated; set before routing
  bool keep_alive = true;
  bool http10 = false;  // HTTP/1.0 keep-alive needs an explicit Connection: keep-alive

  // Clears values, keeps capacity.
  void reset() {
    method = Method::other;
    for (std::string* s :
         {&target, &host, &user_agent, &referer, &accept_language, &accept_encoding, &authorization,
          &content_type, &x_forwarded_for, &last_event_id, &body})
      s->clear();
    path = query = {};
    id.clear();
    keep_alive = true;
  }
  // Splits target into path and query; called by the server once the head is parsed.
  void split_target() {
    std::string_view t = target;
    auto q = t.find('?');
    path = t.substr(0, q);
    query = q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
  }
  bool is_get_or_head() const { return method == Method::get || method == Method::head; }
};

}  // namespace shortener::http
