#include "log/json_formatter.h"

#include "log/json.h"

namespace shortener::logging {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

}  // namespace

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void JsonFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  auto ts = utc_timestamp(msg.time);
  append(dest, R"({"ts":")");
  append(dest, std::string_view(ts.data(), ts.size()));
  append(dest, R"(","level":")");
  append(dest, level_name(msg.level));
  append(dest, R"(","logger":)");
  append_json_string(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
  std::string_view payload(msg.payload.data(), msg.payload.size());
  if (payload_ == Payload::fields) {
    dest.push_back(',');
    append(dest, payload);
  } else {
    append(dest, R"(,"msg":)");
    append_json_string(dest, payload);
  }
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonFormatter::clone() const {
  return std::make_unique<JsonFormatter>(payload_);
}

}  // namespace shortener::logging
