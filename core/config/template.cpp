#include "config/template.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "common/json.hpp"
#include "config/json_pointer.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

constexpr std::array<std::string_view, 3> kRoots = {"event", "steps", "account"};

// One step of rendering: static JSON text, a whole value, or a scalar inside a string.
struct Op {
  enum class Kind { kText, kValue, kInterpolate };
  Kind kind = Kind::kText;
  std::string text;  // kText: JSON text appended as is
  JsonPointer pointer;
  std::string where;  // relative config path, for render errors
  // {{json(<pointer>)<inner>}}: the string at pointer is parsed as JSON and inner read in it
  // (vxpolls' participant fields are JSON-encoded strings). inner_text "" reads the whole value.
  bool in_json_string = false;
  std::optional<JsonPointer> inner;
  std::string inner_text;
  std::string shown;  // the template as written, for messages
};

}  // namespace

struct Template::Program {
  boost::json::value config = boost::json::object();  // as written: always an object
  std::string static_text;                            // the config as text when it has no templates
  // What compiling found; null for a config without templates or errors, which most accounts'
  // own configs (a tag map) are: it would be 72 bytes of empty vectors in each.
  struct Compiled {
    std::vector<Op> ops;
    std::vector<Template::Use> uses;
    std::vector<std::pair<std::string, std::string>> errors;
  };
  std::unique_ptr<const Compiled> compiled;

  bool is_static() const { return !compiled || compiled->uses.empty(); }
  const std::vector<std::pair<std::string, std::string>>& errors() const {
    static const std::vector<std::pair<std::string, std::string>> kNone;
    return compiled ? compiled->errors : kNone;
  }
};

namespace {

bool same_as_written(const bj::value& a, const bj::value& b);

bool same_as_written(const bj::object& a, const bj::object& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
    if (i->key() != j->key() || !same_as_written(i->value(), j->value())) return false;
  return true;
}

// Equal as written: the same members in the same order, so the same JSON text. (Boost.JSON's ==
// ignores member order, and a program keeps its config as the first step with it wrote it.)
bool same_as_written(const bj::value& a, const bj::value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case bj::kind::object:
      return same_as_written(a.get_object(), b.get_object());
    case bj::kind::array:
      return std::equal(a.get_array().begin(), a.get_array().end(), b.get_array().begin(),
                        b.get_array().end(),
                        [](const bj::value& x, const bj::value& y) { return same_as_written(x, y); });
    case bj::kind::double_:  // bit for bit: 0.0 and -0.0 are written differently
      return std::bit_cast<std::uint64_t>(a.get_double()) == std::bit_cast<std::uint64_t>(b.get_double());
    default:
      return a == b;
  }
}

}  // namespace

// Programs by their config's hash (member order aside: Boost.JSON's hash), told apart within a
// hash by same_as_written. Hashing the parsed config is cheaper than writing it out as text.
struct TemplateCache::Entries {
  std::unordered_multimap<std::size_t, std::shared_ptr<const Template::Program>> by_hash;
};

TemplateCache::TemplateCache() : entries_(std::make_unique<Entries>()) {}
TemplateCache::~TemplateCache() = default;

void TemplateCache::reserve(std::size_t n) {
  entries_->by_hash.reserve(n);
}

namespace {

// Whether any string in v holds "{{": only such a config has templates, or template errors, to
// compile. Most accounts' own configs (a tag map) have none.
bool has_template(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      return std::string_view(v.get_string()).find("{{") != std::string_view::npos;
    case bj::kind::object:
      return std::any_of(v.get_object().begin(), v.get_object().end(),
                         [](const bj::key_value_pair& member) { return has_template(member.value()); });
    case bj::kind::array:
      return std::any_of(v.get_array().begin(), v.get_array().end(),
                         [](const bj::value& element) { return has_template(element); });
    default:
      return false;
  }
}

// Builds the op list for one config, collecting syntax errors and pointer uses.
class Compiler {
 public:
  Compiler(std::vector<Op>& ops, std::vector<Template::Use>& uses,
           std::vector<std::pair<std::string, std::string>>& errors)
      : ops_(ops), uses_(uses), errors_(errors) {}

  void value(const bj::value& v, const std::string& where) {
    if (const bj::object* obj = v.if_object()) {
      text("{");
      bool first = true;
      for (const auto& [key, member] : *obj) {
        if (!first) text(",");
        first = false;
        std::string quoted_key = "\"";
        json::append_escaped(quoted_key, key);
        quoted_key += "\":";
        text(quoted_key);
        value(member, json::child_path(where, key));
      }
      text("}");
    } else if (const bj::array* arr = v.if_array()) {
      text("[");
      for (std::size_t i = 0; i < arr->size(); ++i) {
        if (i > 0) text(",");
        value((*arr)[i], json::index_path(where, i));
      }
      text("]");
    } else if (const bj::string* s = v.if_string()) {
      string(*s, where);
    } else {
      text(bj::serialize(v));
    }
  }

 private:
  void text(std::string_view t) {
    if (ops_.empty() || ops_.back().kind != Op::Kind::kText) ops_.push_back(Op{});
    ops_.back().text += t;
  }

  void string(std::string_view s, const std::string& where) {
    std::size_t open = s.find("{{");
    if (open == std::string_view::npos) {
      std::string literal;
      json::append_quoted(literal, s);
      text(literal);
      return;
    }
    std::size_t close = s.find("}}", open + 2);
    if (open == 0 && close == s.size() - 2 && s.find("{{", 2) == std::string_view::npos) {
      add_pointer(Op::Kind::kValue, s.substr(2, close - 2), where);
      return;
    }
    text("\"");
    std::size_t at = 0;
    while (open != std::string_view::npos) {
      std::string literal;
      json::append_escaped(literal, s.substr(at, open - at));
      text(literal);
      close = s.find("}}", open + 2);
      if (close == std::string_view::npos) {
        error(where, "unclosed \"{{\" at character " + std::to_string(open + 1));
        return;
      }
      add_pointer(Op::Kind::kInterpolate, s.substr(open + 2, close - open - 2), where);
      at = close + 2;
      open = s.find("{{", at);
    }
    std::string literal;
    json::append_escaped(literal, s.substr(at));
    literal += '"';
    text(literal);
  }

  void add_pointer(Op::Kind kind, std::string_view pointer_text, const std::string& where) {
    constexpr std::string_view kJsonOpen = "json(";
    if (pointer_text.starts_with(kJsonOpen)) {
      add_json_string_pointer(kind, pointer_text, where);
      return;
    }
    auto pointer = JsonPointer::parse(pointer_text);
    if (!pointer) {
      error(where, "template {{" + std::string(pointer_text) + "}}: " + pointer.error().message);
      return;
    }
    const std::string& root = pointer->tokens().front();
    if (std::find(kRoots.begin(), kRoots.end(), root) == kRoots.end()) {
      error(where, "template {{" + std::string(pointer_text) + "}}: unknown root \"/" + root +
                       "\" (allowed: /event, /steps, /account)");
      return;
    }
    const auto& tokens = pointer->tokens();
    uses_.push_back(Template::Use{std::string(pointer_text), where, root,
                                  tokens.size() > 1 ? std::optional(tokens[1]) : std::nullopt});
    Op op;
    op.kind = kind;
    op.pointer = std::move(*pointer);
    op.where = where;
    op.shown = std::string(pointer_text);
    ops_.push_back(std::move(op));
  }

  // {{json(/outer/pointer)/inner/pointer}}
  void add_json_string_pointer(Op::Kind kind, std::string_view text, const std::string& where) {
    const std::string shown = "template {{" + std::string(text) + "}}";
    // The outer pointer ends at the first ")/", or at a final ')' when nothing follows it.
    std::size_t close = text.find(")/");
    if (close == std::string_view::npos && text.ends_with(')')) close = text.size() - 1;
    if (close == std::string_view::npos) {
      error(where, shown + ": json( has no closing ')' (form: {{json(/pointer/to/string)/pointer/inside}})");
      return;
    }
    std::string_view outer = text.substr(5, close - 5);
    std::string_view inner = text.substr(close + 1);
    const std::size_t errors_before = errors_.size();
    std::vector<Op> outer_ops;
    Compiler(outer_ops, uses_, errors_).add_pointer(kind, outer, where);
    if (errors_.size() != errors_before || outer_ops.empty()) return;
    Op op = std::move(outer_ops.back());
    op.in_json_string = true;
    op.shown = std::string(text);
    op.inner_text = std::string(inner);
    if (!inner.empty()) {
      auto pointer = JsonPointer::parse(inner);
      if (!pointer) {
        error(where, shown + ": the pointer after json(...) " + pointer.error().message);
        return;
      }
      op.inner = std::move(pointer).value();
    }
    ops_.push_back(std::move(op));
  }

  void error(const std::string& where, std::string why) { errors_.emplace_back(where, std::move(why)); }

  std::vector<Op>& ops_;
  std::vector<Template::Use>& uses_;
  std::vector<std::pair<std::string, std::string>>& errors_;
};

// The value a pointer names in the context, or null with missing set to the failing prefix.
// Values that exist only as text in the context (the account key) are built into scratch.
const bj::value* resolve(const JsonPointer& pointer, const RenderContext& ctx, bj::value& scratch,
                         std::string& missing) {
  const auto& tokens = pointer.tokens();
  const std::string& root = tokens.front();
  if (root == "event") {
    if (!ctx.event) {
      missing = "/event";
      return nullptr;
    }
    return pointer.resolve(*ctx.event, 1, missing);
  }
  if (root == "steps") {
    static const bj::object kNoSteps;
    const bj::object& steps = ctx.steps ? *ctx.steps : kNoSteps;
    if (tokens.size() == 1) {
      scratch = steps;
      return &scratch;
    }
    const bj::value* step = steps.if_contains(tokens[1]);
    if (!step) {
      missing = "/steps/" + tokens[1];
      return nullptr;
    }
    return pointer.resolve(*step, 2, missing);
  }
  // account
  if (ctx.account) return pointer.resolve(*ctx.account, 1, missing);
  scratch = bj::object{{"key", ctx.account_key}};
  return pointer.resolve(scratch, 1, missing);
}

// Appends a scalar as text inside a JSON string; why not for null, objects and arrays.
Expected<void> append_scalar(std::string& out, const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      json::append_escaped(out, v.get_string());
      return {};
    case bj::kind::bool_:
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_:
      out += bj::serialize(v);
      return {};
    case bj::kind::null:
      return fail(ErrorCode::invalid, "is null, which cannot be put inside a string");
    default:
      return fail(ErrorCode::invalid,
                  "is " + std::string(json::type_name(v)) + ", which cannot be put inside a string");
  }
}

// For {{json(/outer)/inner}}: parses the string v into parsed and follows inner in it; why not
// when v is no string, not JSON, or inner names nothing.
Expected<const bj::value*> resolve_in_json_string(const Op& op, const bj::value& v, bj::value& parsed) {
  const std::string where = "{{" + op.shown + "}} at " + (op.where.empty() ? "(config)" : op.where);
  if (!v.is_string())
    return fail(ErrorCode::invalid, where + ": " + op.pointer.text() + " is " +
                                        std::string(json::type_name(v)) + ", not a string holding JSON");
  json::ParseError parse_error;
  if (!json::parse(std::string_view(v.get_string()), {}, parsed, parse_error))
    return fail(ErrorCode::invalid,
                where + ": " + op.pointer.text() + " is not JSON text: " + parse_error.message);
  if (!op.inner) return &parsed;
  std::string missing;
  const bj::value* found = op.inner->resolve(parsed, 0, missing);
  if (!found)
    return fail(ErrorCode::invalid,
                where + ": nothing at " + missing + " inside the JSON of " + op.pointer.text());
  return found;
}

}  // namespace

bool Template::compile(const bj::object& config, std::vector<std::pair<std::string, std::string>>& errors,
                       TemplateCache* cache) {
  std::size_t hash = 0;
  if (cache) {
    hash = std::hash<bj::object>()(config);
    auto [candidate, end] = cache->entries_->by_hash.equal_range(hash);
    for (; candidate != end; ++candidate) {
      if (!same_as_written(candidate->second->config.get_object(), config)) continue;
      program_ = candidate->second;
      const auto& found = program_->errors();
      errors.insert(errors.end(), found.begin(), found.end());
      return found.empty();
    }
  }
  auto program = std::make_shared<Program>();
  program->config = bj::value(bj::object(config, bj::storage_ptr()));
  bool ok = true;
  if (has_template(program->config)) {
    auto compiled = std::make_unique<Program::Compiled>();
    Compiler(compiled->ops, compiled->uses, compiled->errors).value(config, "");
    errors.insert(errors.end(), compiled->errors.begin(), compiled->errors.end());
    ok = compiled->errors.empty();
    if (compiled->uses.empty()) compiled->ops.clear();  // static after all: rendered from static_text
    if (!compiled->uses.empty() || !ok) {
      compiled->ops.shrink_to_fit();
      compiled->uses.shrink_to_fit();
      program->compiled = std::move(compiled);
    }
  }
  if (program->is_static()) program->static_text = bj::serialize(config);
  program_ = std::move(program);
  if (cache) cache->entries_->by_hash.emplace(hash, program_);
  return ok;
}

namespace {

const Template::Program& empty_program() {
  static const Template::Program* empty = [] {
    auto* p = new Template::Program();
    p->static_text = "{}";
    return p;
  }();
  return *empty;
}

}  // namespace

const bj::object& Template::config() const {
  return config_value().get_object();
}

const bj::value& Template::config_value() const {
  return (program_ ? *program_ : empty_program()).config;
}

bool Template::is_static() const {
  return !program_ || program_->is_static();
}

const std::string& Template::static_text() const {
  return (program_ ? *program_ : empty_program()).static_text;
}

const std::vector<Template::Use>& Template::uses() const {
  static const std::vector<Use> kNone;
  return program_ && program_->compiled ? program_->compiled->uses : kNone;
}

Expected<void> Template::render(const RenderContext& ctx, std::string& out) const {
  out.clear();
  if (is_static()) {
    out = static_text();
    return {};
  }
  bj::value scratch;
  bj::value parsed;  // the JSON string a json(...) template parsed
  std::string missing;
  for (const Op& op : program_->compiled->ops) {
    if (op.kind == Op::Kind::kText) {
      out += op.text;
      continue;
    }
    const bj::value* v = resolve(op.pointer, ctx, scratch, missing);
    if (!v)
      return fail(ErrorCode::invalid, "{{" + op.shown + "}} at " +
                                          (op.where.empty() ? "(config)" : op.where) + ": nothing at " +
                                          missing);
    if (op.in_json_string) {
      auto inner = resolve_in_json_string(op, *v, parsed);
      if (!inner) return Unexpected(std::move(inner).error());
      v = *inner;
    }
    if (op.kind == Op::Kind::kValue) {
      out += bj::serialize(*v);
      continue;
    }
    if (auto appended = append_scalar(out, *v); !appended)
      return fail(ErrorCode::invalid, "{{" + op.shown + "}} at " + op.where + " " + appended.error().message);
  }
  return {};
}

}  // namespace vumi::config
