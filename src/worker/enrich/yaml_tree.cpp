#include "worker/enrich/yaml_tree.h"

#include <yaml.h>

#include <cstdio>
#include <memory>

namespace shortener::enrich {
namespace {

// Data files are flat lists of small maps; anything deeper is not ours and could only
// exhaust the stack of whoever walks the tree.
constexpr std::size_t kMaxDepth = 64;

bool is_null_scalar(const yaml_event_t& event) {
  if (event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  std::string_view v(reinterpret_cast<const char*>(event.data.scalar.value),
                     event.data.scalar.length);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

// Turns the event stream into a tree: `open_` is the path from the root to the collection
// being filled. Pointers stay valid because only the innermost collection grows.
class TreeBuilder {
 public:
  Result<void> add(YamlNode node) {
    if (open_.empty()) {
      if (!done_) root_ = std::move(node);
      done_ = true;  // later documents in the stream are ignored
      return {};
    }
    Frame& top = open_.back();
    if (top.node->kind == YamlNode::Kind::sequence) {
      top.node->items.push_back(std::move(node));
    } else if (!top.has_key) {
      if (node.kind != YamlNode::Kind::scalar && node.kind != YamlNode::Kind::null) {
        return fail(Errc::invalid_input, "mapping keys must be scalars");
      }
      top.key = std::move(node.scalar);
      top.has_key = true;
    } else {
      top.node->members.emplace_back(std::move(top.key), std::move(node));
      top.has_key = false;
    }
    return {};
  }

  Result<void> open(YamlNode::Kind kind) {
    if (open_.size() >= kMaxDepth) return fail(Errc::invalid_input, "nested too deeply");
    if (open_.empty() && done_) return fail(Errc::invalid_input, "more than one document");
    YamlNode node;
    node.kind = kind;
    if (auto added = add(std::move(node)); !added) return added;
    Frame frame;
    frame.node = last_added();
    open_.push_back(std::move(frame));
    return {};
  }

  void close() {
    if (!open_.empty()) open_.pop_back();
  }

  YamlNode take() { return std::move(root_); }

 private:
  struct Frame {
    YamlNode* node = nullptr;
    std::string key;
    bool has_key = false;
  };

  YamlNode* last_added() {
    if (open_.empty()) return &root_;
    YamlNode* parent = open_.back().node;
    if (parent->kind == YamlNode::Kind::sequence) return &parent->items.back();
    return &parent->members.back().second;
  }

  YamlNode root_;
  bool done_ = false;
  std::vector<Frame> open_;
};

Result<void> apply(TreeBuilder& builder, const yaml_event_t& event) {
  switch (event.type) {
    case YAML_SCALAR_EVENT: {
      YamlNode node;
      if (!is_null_scalar(event)) {
        node.kind = YamlNode::Kind::scalar;
        node.scalar.assign(reinterpret_cast<const char*>(event.data.scalar.value),
                           event.data.scalar.length);
      }
      return builder.add(std::move(node));
    }
    case YAML_SEQUENCE_START_EVENT:
      return builder.open(YamlNode::Kind::sequence);
    case YAML_MAPPING_START_EVENT:
      return builder.open(YamlNode::Kind::mapping);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      builder.close();
      return {};
    case YAML_ALIAS_EVENT:
      return fail(Errc::invalid_input, "YAML aliases are not supported");
    default:
      return {};
  }
}

}  // namespace

const YamlNode* YamlNode::find(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::optional<std::string_view> YamlNode::text(std::string_view key) const {
  const YamlNode* node = find(key);
  if (node == nullptr || node->kind != Kind::scalar) return std::nullopt;
  return std::string_view(node->scalar);
}

Result<YamlNode> load_yaml_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail(Errc::unavailable, "cannot open " + path);

  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return fail(Errc::internal, "libyaml init failed");
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> guard(&parser, &yaml_parser_delete);
  yaml_parser_set_input_file(&parser, file.get());

  TreeBuilder builder;
  for (;;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      return fail(Errc::invalid_input,
                  path + ":" + std::to_string(parser.problem_mark.line + 1) + ": " +
                      (parser.problem != nullptr ? parser.problem : "YAML syntax error"));
    }
    const bool end = event.type == YAML_STREAM_END_EVENT;
    auto applied = apply(builder, event);
    yaml_event_delete(&event);
    if (!applied) {
      applied.error().detail = path + ": " + applied.error().detail;
      return std::unexpected(applied.error());
    }
    if (end) break;
  }
  return builder.take();
}

}  // namespace shortener::enrich
