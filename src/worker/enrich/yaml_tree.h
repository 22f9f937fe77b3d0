// A small document tree over libyaml, enough for the data files enrichment loads: uap-core's
// regexes.yaml and test cases, and crawler-user-agents.json (JSON is YAML's flow syntax).
// Anchors and aliases are refused; tags are ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace shortener::enrich {

struct YamlNode {
  enum class Kind { null, scalar, sequence, mapping };

  Kind kind = Kind::null;
  std::string scalar;                                     // Kind::scalar
  std::vector<YamlNode> items;                            // Kind::sequence
  std::vector<std::pair<std::string, YamlNode>> members;  // Kind::mapping, in file order

  // The member named `key`, or nullptr (also when this is not a mapping).
  const YamlNode* find(std::string_view key) const;
  // The scalar text of member `key`; nullopt when absent, null (`~`, `null`, empty) or not a
  // scalar. A quoted '' is an empty string, not null.
  std::optional<std::string_view> text(std::string_view key) const;
};

// Errc::unavailable when the file cannot be opened, Errc::invalid_input when it is not YAML
// (the detail names the line).
Result<YamlNode> load_yaml_file(const std::string& path);

}  // namespace shortener::enrich
