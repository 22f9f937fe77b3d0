// An spdlog formatter writing one JSON object per line, for log collectors:
//   {"ts":"2026-11-29T12:00:00.123456Z","level":"info","logger":"shortener","msg":"..."}
// With Payload::fields the message is not text but ready JSON members ("msg":"request",
// "status":302,...) that are spliced in after "logger": how the access log gets its fields.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string_view>

namespace shortener::logging {

class JsonFormatter final : public spdlog::formatter {
 public:
  enum class Payload { message, fields };

  explicit JsonFormatter(Payload payload = Payload::message) : payload_(payload) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  Payload payload_;
};

// "trace", "debug", "info", "warn", "error", "critical": the --log-level vocabulary.
std::string_view level_name(spdlog::level::level_enum level);

}  // namespace shortener::logging
