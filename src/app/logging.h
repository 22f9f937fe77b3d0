// Logging set-up for every subcommand: the level, text or JSON lines on stderr, and the HTTP
// access log. Nothing logged carries a credential (API keys, the admin key, Authorization,
// query strings); stdout is kept for what the operator must read (the first admin key, the
// listening address).
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "core/ip.h"
#include "http/response.h"

namespace shortener {

// Replaces spdlog's default logger: `config.format` lines on stderr at `config.level`.
void configure_logging(const LogConfig& config);

// The access log for http::ServerOptions::access_log; null unless --access-log. Clients are
// resolved through `trusted_proxies` as the routes do.
std::unique_ptr<http::AccessLog> make_access_log(const LogConfig& config,
                                                 std::vector<Cidr> trusted_proxies);

}  // namespace shortener
