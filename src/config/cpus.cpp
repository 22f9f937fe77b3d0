#include "config/cpus.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace shortener {

namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::optional<unsigned long long> parse_number(std::string_view text) {
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The quota of this process's own cgroup (a container's limit is set there; a parent's limit
// would show in the parent's file, which a container usually cannot see).
std::optional<unsigned> cgroup_quota() {
  auto self = read_text("/proc/self/cgroup");
  if (!self) return std::nullopt;
  auto path = cgroup2_path(*self);
  if (!path) return std::nullopt;
  std::string dir = "/sys/fs/cgroup" + std::string(*path == "/" ? "" : *path);
  auto line = read_text(dir + "/cpu.max");
  if (!line) return std::nullopt;
  return cpus_from_cpu_max(*line);
}

}  // namespace

std::optional<unsigned> cpus_from_cpu_max(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  auto space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view quota_text = line.substr(0, space);
  if (quota_text == "max") return std::nullopt;
  auto quota = parse_number(quota_text);
  auto period = parse_number(line.substr(space + 1));
  if (!quota || !period || *quota == 0 || *period == 0) return std::nullopt;
  unsigned long long cpus = (*quota + *period - 1) / *period;
  return static_cast<unsigned>(std::min<unsigned long long>(cpus, 1u << 16));
}

std::optional<std::string_view> cgroup2_path(std::string_view text) {
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (line.starts_with("0::")) return line.substr(3);
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return std::nullopt;
}

unsigned usable_cpus() {
  unsigned cpus = std::thread::hardware_concurrency();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = static_cast<unsigned>(CPU_COUNT(&set));
  if (auto quota = cgroup_quota()) cpus = std::min(cpus, *quota);
  return std::max(1u, cpus);
}

}  // namespace shortener
