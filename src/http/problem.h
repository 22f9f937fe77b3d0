// RFC 9457 problem details: the one place where domain errors become HTTP statuses.
#pragma once

#include <string_view>

#include "core/error.h"
#include "http/response.h"

namespace shortener::http {

int status_of(Errc code);
// application/problem+json with type, title, status, detail (+ Retry-After when relevant).
void problem(Response& response, const Error& error);
void problem(Response& response, Errc code, std::string_view detail);
// 405 with an Allow header.
void method_not_allowed(Response& response, std::string_view allow);

}  // namespace shortener::http
