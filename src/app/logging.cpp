#include "app/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "log/access_log.h"
#include "log/json_formatter.h"

namespace shortener {

namespace {

logging::Format format_of(const LogConfig& config) {
  return config.format == "json" ? logging::Format::json : logging::Format::text;
}

// Every sink shares spdlog's console mutex, so lines of different loggers never interleave.
std::shared_ptr<spdlog::logger> stderr_logger(std::string name, logging::Format format,
                                              logging::JsonFormatter::Payload payload) {
  spdlog::sink_ptr sink;
  if (format == logging::Format::json) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<logging::JsonFormatter>(payload));
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();  // colour on a terminal
  }
  return std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
}

}  // namespace

void configure_logging(const LogConfig& config) {
  auto format = format_of(config);
  // Text lines keep spdlog's usual look ("[time] [info] message"), which has no logger name.
  auto logger = stderr_logger(format == logging::Format::json ? "shortener" : "", format,
                              logging::JsonFormatter::Payload::message);
  logger->set_level(spdlog::level::from_str(config.level));
  spdlog::set_default_logger(std::move(logger));
}

std::unique_ptr<http::AccessLog> make_access_log(const LogConfig& config,
                                                 std::vector<Cidr> trusted_proxies) {
  if (!config.access_log) return nullptr;
  auto format = format_of(config);
  // Not registered with spdlog: --log-level does not silence a log that was asked for.
  auto logger = stderr_logger("access", format, logging::JsonFormatter::Payload::fields);
  logger->set_level(spdlog::level::info);
  return std::make_unique<logging::SpdlogAccessLog>(std::move(logger), format,
                                                    std::move(trusted_proxies));
}

}  // namespace shortener
