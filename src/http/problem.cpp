#include "http/problem.h"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "http/wire.h"

namespace shortener::http {

namespace {

// Relative type URIs (RFC 9457 §3.1.1): resolved against the server, documented in docs/api.md.
std::string_view type_of(Errc code) {
  switch (code) {
    case Errc::invalid_input:
      return "/problems/invalid-input";
    case Errc::unauthorized:
      return "/problems/unauthorized";
    case Errc::not_found:
      return "/problems/not-found";
    case Errc::conflict:
      return "/problems/conflict";
    case Errc::gone:
      return "/problems/gone";
    case Errc::payload_too_large:
      return "/problems/payload-too-large";
    case Errc::unsupported_media:
      return "/problems/unsupported-media-type";
    case Errc::rate_limited:
      return "/problems/rate-limited";
    case Errc::unavailable:
      return "/problems/unavailable";
    case Errc::internal:
      return "/problems/internal";
  }
  return "about:blank";
}

constexpr int kUnavailableRetryAfterS = 5;

}  // namespace

int status_of(Errc code) {
  switch (code) {
    case Errc::invalid_input:
      return 400;
    case Errc::unauthorized:
      return 401;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    case Errc::gone:
      return 410;
    case Errc::payload_too_large:
      return 413;
    case Errc::unsupported_media:
      return 415;
    case Errc::rate_limited:
      return 429;
    case Errc::unavailable:
      return 503;
    case Errc::internal:
      return 500;
  }
  return 500;
}

void problem(Response& response, const Error& error) {
  int status = status_of(error.code);
  boost::json::object body;
  body["type"] = type_of(error.code);
  body["title"] = reason_phrase(status);
  body["status"] = status;
  // A backend's own words (host names, ports, SQL) are for the operator's log, not for clients.
  if (error.code == Errc::unavailable || error.code == Errc::internal) {
    spdlog::warn("answered {}: {}", status, error.detail);
    body["detail"] = error.code == Errc::unavailable
                         ? "A backend this request needs is unavailable right now; retry after "
                           "the Retry-After delay."
                         : "An unexpected error occurred; the server logged it.";
  } else {
    body["detail"] = error.detail;
  }
  response.set(status, kProblemJson, boost::json::serialize(body));
  response.cache_control = kNoStore;
  int retry_after = error.retry_after_s;
  if (error.code == Errc::unavailable && retry_after == 0) retry_after = kUnavailableRetryAfterS;
  if (retry_after > 0) response.headers.emplace_back("Retry-After", std::to_string(retry_after));
  if (error.code == Errc::unauthorized)
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"shortener\"");
}

void problem(Response& response, Errc code, std::string_view detail) {
  problem(response, Error{code, std::string(detail)});
}

void method_not_allowed(Response& response, std::string_view allow) {
  boost::json::object body;
  body["type"] = "/problems/method-not-allowed";
  body["title"] = reason_phrase(405);
  body["status"] = 405;
  body["detail"] = "allowed methods: " + std::string(allow);
  response.set(405, kProblemJson, boost::json::serialize(body));
  response.cache_control = kNoStore;
  response.headers.emplace_back("Allow", std::string(allow));
}

}  // namespace shortener::http
