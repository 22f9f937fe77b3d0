#include "worker/enrich/ua_rules.h"

#include <algorithm>

namespace shortener::enrich {
namespace {

constexpr int kMaxGroups = 9;  // uap-core replacements address $1..$9
// Atoms shorter than this are dropped from a rule's condition. 2 keeps tokens like "bb" or
// "lg" that single out device rules; 1 makes the literal set slower without filtering more.
constexpr int kMinAtomLength = 2;
// A rule's DFA budget grows with its program: the few rules with large counted repetitions
// (`^.{0,200}?...{0,50}`, huge alternations) rebuild states constantly on 1 MiB and fall back
// to the NFA at ~100 µs per UA; the hundreds of small rules never need more than the floor.
// After all 31k of uap-core's test UAs the parser holds ~100 MB (halving these saves <10 %).
constexpr std::int64_t kRegexBytesPerInstruction = 8 << 10;
constexpr std::int64_t kRegexMinBytes = 256 << 10;
constexpr std::int64_t kProbeBytes = 64 << 20;  // only to measure the program, then dropped

RE2::Options regex_options(std::int64_t max_mem, bool case_sensitive) {
  RE2::Options options;
  options.set_max_mem(max_mem);
  options.set_case_sensitive(case_sensitive);
  // uap-core's patterns are ASCII; Latin-1 keeps `.` and `[^;/]` one byte wide, so the DFAs
  // stay small. Captured non-ASCII bytes are copied through unchanged.
  options.set_encoding(RE2::Options::EncodingLatin1);
  // A DFA that hits its budget falls back to the NFA; RE2 would log that on every match.
  options.set_log_errors(false);
  return options;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// uap-core's catch-all rules start with a bounded window, `^.{0,N}?REST` or `^.{0,N}REST`.
// That prefix makes RE2's DFA track up to N start offsets at once, so those few rules cost
// ~100 µs each. Searching REST unanchored finds the leftmost start, which is exactly what the
// lazy window picks, so it is run instead with the start checked against N. A greedy window
// picks a different start, so it is only dropped for rules whose output reads no group.
struct Window {
  std::string_view rest;
  int max_start = -1;  // -1: the pattern has no window prefix
  bool lazy = false;
};

// Whether `pattern` has an alternation outside any group: `^.{0,9}A|B` is `(^.{0,9}A)|B`, so
// its window cannot be split off.
bool has_top_level_alternation(std::string_view pattern) {
  int depth = 0;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') ++i;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;  // "[]...]" and "[^]...]"
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      return true;
    }
  }
  return false;
}

Window split_window(std::string_view pattern) {
  constexpr std::string_view kOpen = "^.{0,";
  if (!pattern.starts_with(kOpen)) return {pattern};
  std::size_t i = kOpen.size();
  int n = 0;
  while (i < pattern.size() && pattern[i] >= '0' && pattern[i] <= '9' && n < 100000) {
    n = n * 10 + (pattern[i++] - '0');
  }
  if (i == kOpen.size() || i >= pattern.size() || pattern[i] != '}') return {pattern};
  const bool lazy = i + 1 < pattern.size() && pattern[i + 1] == '?';
  const std::string_view rest = pattern.substr(i + (lazy ? 2 : 1));
  // A quantifier right after the window would apply to it, not start REST.
  if (rest.empty() || rest.front() == '*' || rest.front() == '+' || rest.front() == '?' ||
      rest.front() == '{' || has_top_level_alternation(rest)) {
    return {pattern};
  }
  return {rest, n, lazy};
}

int highest_reference(std::string_view replacement) {
  int highest = 0;
  for (std::size_t i = 0; i + 1 < replacement.size(); ++i) {
    if (replacement[i] == '$' && replacement[i + 1] >= '1' && replacement[i + 1] <= '9') {
      highest = std::max(highest, replacement[i + 1] - '0');
    }
  }
  return highest;
}

// Expands $1..$9 with the capture groups; a group that did not participate expands to "".
std::string substitute(std::string_view pattern, const re2::StringPiece* groups, int ngroups) {
  std::string out;
  out.reserve(pattern.size() + 16);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '$' && i + 1 < pattern.size() && pattern[i + 1] >= '1' && pattern[i + 1] <= '9') {
      const int group = pattern[i + 1] - '0';
      if (group < ngroups && groups[group].data() != nullptr) {
        out.append(groups[group].data(), groups[group].size());
      }
      ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

RuleSection::RuleSection(RuleSection&&) noexcept = default;
RuleSection& RuleSection::operator=(RuleSection&&) noexcept = default;
RuleSection::~RuleSection() = default;

Result<RuleSection> RuleSection::compile(const YamlNode& rules, const RuleSchema& schema,
                                         const RegexBudget& budget) {
  if (rules.kind != YamlNode::Kind::sequence || rules.items.empty()) {
    return fail(Errc::invalid_input, "a parser section must be a non-empty list of rules");
  }
  RuleSection section;
  section.default_groups_ = schema.default_groups;
  section.fallbacks_ = std::make_unique<std::atomic<std::uint64_t>>(0);
  section.filter_ = std::make_unique<re2::FilteredRE2>(kMinAtomLength);
  section.rules_.resize(rules.items.size());
  for (std::size_t i = 0; i < rules.items.size(); ++i) {
    const YamlNode& item = rules.items[i];
    const auto pattern = item.text("regex");
    if (!pattern) return fail(Errc::invalid_input, "rule " + std::to_string(i) + " has no regex");
    const bool case_sensitive = item.text("regex_flag").value_or("") != "i";
    Rule& rule = section.rules_[i];
    for (std::size_t f = 0; f < schema.replacement_keys.size(); ++f) {
      if (auto text = item.text(schema.replacement_keys[f])) {
        rule.replacements[f] = *text;
        rule.groups_needed = std::max(rule.groups_needed, highest_reference(*text));
      } else {
        rule.groups_needed = std::max(rule.groups_needed, schema.default_groups[f]);
      }
    }
    const Window window = split_window(*pattern);
    const bool use_window = window.max_start >= 0 && (window.lazy || rule.groups_needed == 0);
    const std::string_view source = use_window ? window.rest : *pattern;
    rule.max_start = use_window ? window.max_start : -1;
    const re2::StringPiece text(source.data(), source.size());
    const RE2 probe(text, regex_options(kProbeBytes, case_sensitive));
    if (!probe.ok()) {
      return fail(Errc::invalid_input, "rule " + std::to_string(i) + " /" + std::string(*pattern) +
                                           "/: " + probe.error());
    }
    const std::int64_t max_mem =
        std::clamp(probe.ProgramSize() * kRegexBytesPerInstruction, kRegexMinBytes,
                   std::max(kRegexMinBytes, budget.per_pattern_bytes));
    section.memory_cap_ += max_mem;
    int id = -1;
    const auto code = section.filter_->Add(text, regex_options(max_mem, case_sensitive), &id);
    if (code != RE2::NoError || id != static_cast<int>(i)) {
      return fail(Errc::invalid_input, "rule " + std::to_string(i) + " /" + std::string(*pattern) +
                                           "/ does not fit " + std::to_string(max_mem) + " bytes");
    }
  }
  // Pointers into the filter are taken only now: Add may reallocate its vector of regexes.
  for (std::size_t i = 0; i < section.rules_.size(); ++i) {
    section.rules_[i].regex = &section.filter_->GetRE2(static_cast<int>(i));
  }

  std::vector<std::string> atoms;
  section.filter_->Compile(&atoms);
  RE2::Options literal = regex_options(budget.atom_set_bytes, true);
  literal.set_literal(true);
  section.atoms_ = std::make_unique<RE2::Set>(literal, RE2::UNANCHORED);
  for (const std::string& atom : atoms) {
    if (section.atoms_->Add(atom, nullptr) < 0) return fail(Errc::internal, "atom " + atom);
  }
  section.memory_cap_ += budget.atom_set_bytes;
  if (!section.atoms_->Compile()) {
    return fail(Errc::invalid_input, "the literal set does not fit its memory budget");
  }
  return section;
}

std::optional<RuleFields> RuleSection::match(std::string_view ua, std::string_view lowered) const {
  std::vector<int> atoms;
  RE2::Set::ErrorInfo info{};
  const bool any = atoms_->Match(re2::StringPiece(lowered.data(), lowered.size()), &atoms, &info);
  if (!any && info.kind == RE2::Set::kOutOfMemory) {
    fallbacks_->fetch_add(1, std::memory_order_relaxed);
    for (const Rule& rule : rules_) {
      if (auto fields = apply(rule, ua)) return fields;
    }
    return std::nullopt;
  }
  // Rules without atoms (unfiltered) are always among the candidates.
  std::vector<int> candidates;
  filter_->AllPotentials(atoms, &candidates);
  std::sort(candidates.begin(), candidates.end());  // rule order decides
  for (const int index : candidates) {
    if (auto fields = apply(rules_[static_cast<std::size_t>(index)], ua)) return fields;
  }
  return std::nullopt;
}

std::optional<RuleFields> RuleSection::apply(const Rule& rule, std::string_view ua) const {
  std::array<re2::StringPiece, kMaxGroups + 1> groups{};
  // Without submatches RE2 answers from its DFA alone, much cheaper than extracting groups;
  // group 0 alone (the window check) still avoids the NFA.
  const int ngroups = rule.groups_needed > 0
                          ? std::min(rule.regex->NumberOfCapturingGroups(), rule.groups_needed) + 1
                          : (rule.max_start >= 0 ? 1 : 0);
  if (!rule.regex->Match(re2::StringPiece(ua.data(), ua.size()), 0, ua.size(), RE2::UNANCHORED,
                         groups.data(), ngroups)) {
    return std::nullopt;
  }
  if (rule.max_start >= 0 && groups[0].data() - ua.data() > rule.max_start) return std::nullopt;
  RuleFields fields;
  for (std::size_t f = 0; f < default_groups_.size(); ++f) {
    if (rule.replacements[f]) {
      fields[f] = trim(substitute(*rule.replacements[f], groups.data(), ngroups));
    } else if (const int g = default_groups_[f]; g > 0 && g < ngroups) {
      fields[f] = trim(std::string_view(groups[g].data(), groups[g].size()));
    }
  }
  return fields;
}

}  // namespace shortener::enrich
