// One section of uap-core's regexes.yaml (user_agent_parsers, os_parsers or device_parsers):
// an ordered rule list where the first matching rule wins. Running ~600 regexes one by one costs
// 100-250 µs per User-Agent, and one RE2::Set over the full patterns needs hundreds of MB of
// DFA before it stops rebuilding states (device models make every UA new to it). So the
// prefilter works on literals instead: re2::FilteredRE2 derives from each rule the strings a
// matching UA must contain (its "atoms"), one RE2::Set of those literals finds the atoms present
// in the lower-cased UA in a single pass, and only the rules whose atom condition holds are
// run, in order, until one matches.
#pragma once

#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "worker/enrich/yaml_tree.h"

namespace shortener::enrich {

inline constexpr std::size_t kMaxRuleFields = 5;  // os_parsers: family + 4 version parts

// How a section's output fields are filled: field i comes from `replacement_keys[i]` when the
// rule has it (with $1..$9 substituted), else from capture group `default_groups[i]` (0: none).
struct RuleSchema {
  std::vector<std::string_view> replacement_keys;
  std::vector<int> default_groups;
};

struct RegexBudget {
  std::int64_t per_pattern_bytes;  // the largest RE2::Options::max_mem a rule's regex gets
  std::int64_t atom_set_bytes;     // RE2::Options::max_mem of the section's literal set
};

using RuleFields = std::array<std::string, kMaxRuleFields>;

class RuleSection {
 public:
  // Errc::invalid_input naming the rule when a pattern does not compile (uap-core promises
  // RE2-compatible patterns, so that is a broken file, not something to skip).
  static Result<RuleSection> compile(const YamlNode& rules, const RuleSchema& schema,
                                     const RegexBudget& budget);

  RuleSection(RuleSection&&) noexcept;
  RuleSection& operator=(RuleSection&&) noexcept;
  ~RuleSection();

  // The fields of the first rule that matches (trimmed; empty when absent), or nullopt.
  // `lowered` is `ua` with ASCII letters lower-cased, shared by the three sections.
  std::optional<RuleFields> match(std::string_view ua, std::string_view lowered) const;

  std::size_t size() const { return rules_.size(); }
  // The sum of the RE2 max_mem budgets: what this section's regexes can hold at most.
  std::int64_t memory_cap() const { return memory_cap_; }
  // Times the literal set ran out of memory and every rule was tried in order instead.
  std::uint64_t set_fallbacks() const { return fallbacks_->load(std::memory_order_relaxed); }

 private:
  struct Rule {
    const RE2* regex = nullptr;  // owned by filter_
    int groups_needed = 0;       // capture groups the output reads; 0 allows a DFA-only match
    int max_start = -1;          // >= 0: the match must start at or before this byte
    std::array<std::optional<std::string>, kMaxRuleFields> replacements;
  };

  RuleSection() = default;
  std::optional<RuleFields> apply(const Rule& rule, std::string_view ua) const;

  std::vector<Rule> rules_;
  std::vector<int> default_groups_;
  std::unique_ptr<re2::FilteredRE2> filter_;
  std::unique_ptr<RE2::Set> atoms_;
  std::unique_ptr<std::atomic<std::uint64_t>> fallbacks_;
  std::int64_t memory_cap_ = 0;
};

}  // namespace shortener::enrich
