#include "plugin/schema.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include "common/closest_name.hpp"
#include "common/json.hpp"

namespace vumi::plugin {

namespace bj = boost::json;

namespace {

constexpr std::array<std::string_view, 8> kTypeNames = {"string", "integer", "number", "boolean",
                                                        "object", "array",   "null",   "any"};
constexpr std::array<std::string_view, 12> kKeywords = {
    "type",  "description", "default",   "enum",    "properties", "required", "additionalProperties",
    "items", "minLength",   "maxLength", "minimum", "maximum"};

std::vector<std::string> names_of(const auto& list) {
  return {list.begin(), list.end()};
}

bool known_type(std::string_view t) {
  return std::find(kTypeNames.begin(), kTypeNames.end(), t) != kTypeNames.end();
}

// ---- checking a schema ----------------------------------------------------------------------

class SchemaChecker {
 public:
  explicit SchemaChecker(std::vector<std::string>& problems) : problems_(problems) {}

  void check(const bj::value& schema, const std::string& path) {
    const bj::object* obj = schema.if_object();
    if (!obj) {
      add(path, "a schema must be an object, got " + std::string(json::type_name(schema)));
      return;
    }
    for (const auto& [key, value] : *obj) {
      std::string here = json::child_path(path, key);
      if (key == "type") {
        check_type(value, here);
      } else if (key == "description") {
        if (!value.is_string()) add(here, "expected string, got " + std::string(json::type_name(value)));
      } else if (key == "default") {
        // checked against the whole schema below, once its other keywords are known to be valid
      } else if (key == "enum") {
        const bj::array* values = value.if_array();
        if (!values || values->empty()) add(here, "expected a non-empty array");
      } else if (key == "properties") {
        check_properties(value, here);
      } else if (key == "required") {
        check_required(value, *obj, here);
      } else if (key == "additionalProperties") {
        if (!value.is_bool()) check(value, here);
      } else if (key == "items") {
        check(value, here);
      } else if (key == "minLength" || key == "maxLength") {
        if (!value.is_int64() && !value.is_uint64()) {
          add(here, "expected integer, got " + std::string(json::type_name(value)));
        } else if (value.is_int64() && value.get_int64() < 0) {
          add(here, "must not be negative");
        }
      } else if (key == "minimum" || key == "maximum") {
        if (!value.is_number()) add(here, "expected number, got " + std::string(json::type_name(value)));
      } else {
        unknown_keyword(key, here);
      }
    }
    if (const bj::value* def = obj->if_contains("default")) check_default(*def, schema, path);
  }

 private:
  void add(const std::string& path, const std::string& message) {
    problems_.push_back(path.empty() ? message : path + ": " + message);
  }

  void check_type(const bj::value& value, const std::string& path) {
    if (const bj::string* s = value.if_string()) {
      if (!known_type(*s))
        add(path, "unknown type " + json::quoted(*s) + " (known: " + join_names(names_of(kTypeNames)) + ")");
      return;
    }
    const bj::array* list = value.if_array();
    if (!list || list->empty()) {
      add(path, "expected a type name or a non-empty array of them");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) check_type_name((*list)[i], json::index_path(path, i));
  }

  void check_type_name(const bj::value& value, const std::string& path) {
    const bj::string* s = value.if_string();
    if (!s) {
      add(path, "expected string, got " + std::string(json::type_name(value)));
    } else if (!known_type(*s)) {
      add(path, "unknown type " + json::quoted(*s) + " (known: " + join_names(names_of(kTypeNames)) + ")");
    }
  }

  void check_properties(const bj::value& value, const std::string& path) {
    const bj::object* props = value.if_object();
    if (!props) {
      add(path, "expected object, got " + std::string(json::type_name(value)));
      return;
    }
    for (const auto& [name, sub] : *props) check(sub, json::child_path(path, name));
  }

  void check_required(const bj::value& value, const bj::object& schema, const std::string& path) {
    const bj::array* names = value.if_array();
    if (!names) {
      add(path, "expected array, got " + std::string(json::type_name(value)));
      return;
    }
    const bj::object* props = nullptr;
    if (const bj::value* p = schema.if_contains("properties")) props = p->if_object();
    const bj::value* additional = schema.if_contains("additionalProperties");
    bool closed = !additional || (additional->is_bool() && !additional->get_bool());
    for (std::size_t i = 0; i < names->size(); ++i) {
      const bj::string* name = (*names)[i].if_string();
      if (!name) {
        add(json::index_path(path, i), "expected string, got " + std::string(json::type_name((*names)[i])));
      } else if (closed && (!props || !props->contains(*name))) {
        add(json::index_path(path, i),
            "required key " + json::quoted(*name) + " is not in properties and no other key is allowed");
      }
    }
  }

  void unknown_keyword(std::string_view key, const std::string& path) {
    std::string message = "unknown schema keyword (allowed: " + join_names(names_of(kKeywords)) + ")";
    if (auto guess = closest_name(key, names_of(kKeywords)))
      message += "; did you mean " + json::quoted(*guess) + "?";
    add(path, message);
  }

  // A default the schema itself would refuse is a bug in the plugin.
  void check_default(const bj::value& def, const bj::value& schema, const std::string& path) {
    std::vector<std::pair<std::string, std::string>> errors;
    validate_against_schema(def, schema, json::child_path(path, "default"), SchemaOptions{}, errors);
    for (const auto& [where, why] : errors) add(where, why);
  }

  std::vector<std::string>& problems_;
};

// ---- validating a value -----------------------------------------------------------------------

// "{{/ptr}}" and nothing else: one template standing for a whole value of any type.
bool is_single_template(std::string_view s) {
  return s.size() >= 4 && s.substr(0, 2) == "{{" && s.substr(s.size() - 2) == "}}" &&
         s.find("{{", 2) == std::string_view::npos && s.find("}}") == s.size() - 2;
}

bool has_template(std::string_view s) {
  return s.find("{{") != std::string_view::npos;
}

// True when value is of JSON schema type t ("number" includes integers).
bool has_type(const bj::value& value, std::string_view t) {
  if (t == "any") return true;
  if (t == "number") return value.is_number();
  return json::type_name(value) == t;
}

// The schema's "type" as a list of names; empty means any.
std::vector<std::string> types_of(const bj::object& schema) {
  std::vector<std::string> out;
  const bj::value* t = schema.if_contains("type");
  if (!t) return out;
  if (const bj::string* s = t->if_string()) {
    out.emplace_back(*s);
  } else if (const bj::array* list = t->if_array()) {
    for (const auto& item : *list)
      if (const bj::string* s2 = item.if_string()) out.emplace_back(*s2);
  }
  return out;
}

std::string or_list(const std::vector<std::string>& types) {
  std::string out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += (i + 1 == types.size()) ? " or " : ", ";
    out += types[i];
  }
  return out;
}

// Length in Unicode code points of UTF-8 text (continuation bytes do not count).
std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

double as_double(const bj::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return 0.0;
}

std::string number_text(const bj::value& v) {
  return json::to_text(v);
}

// True when the schema's "type" (absent: any) admits value; allocates nothing.
bool type_admits(const bj::object& schema, const bj::value& value) {
  const bj::value* t = schema.if_contains("type");
  if (!t) return true;
  if (const bj::string* s = t->if_string()) return has_type(value, *s);
  const bj::array* list = t->if_array();
  if (!list) return true;
  bool any_name = false;
  for (const auto& item : *list) {
    if (const bj::string* name = item.if_string()) {
      any_name = true;
      if (has_type(value, *name)) return true;
    }
  }
  return !any_name;  // an empty list names no type, like types_of()
}

// Validates a value; the JSON path of the value being looked at grows and shrinks in one string,
// so a value that matches costs no allocation (messages are built only for errors).
class Validator {
 public:
  // path: where value is; grown and shrunk in place, and as given again when done.
  Validator(const SchemaOptions& options, std::vector<std::pair<std::string, std::string>>& errors,
            std::string& path)
      : options_(options), errors_(errors), path_(path) {}

  void validate(const bj::value& value, const bj::value& schema_value) {
    const bj::object* schema = schema_value.if_object();
    if (!schema) return;  // schema_problems() refuses these before any validation

    if (options_.allow_templates) {
      if (const bj::string* s = value.if_string()) {
        if (is_single_template(*s)) return;  // its type is known only once rendered
        if (has_template(*s) && wants(*schema, "string")) return;
      }
    }

    if (!type_admits(*schema, value)) {
      add("expected " + or_list(types_of(*schema)) + ", got " + std::string(json::type_name(value)));
      return;
    }
    check_enum(value, *schema);
    if (const bj::string* s = value.if_string()) check_length(*s, *schema);
    if (value.is_number()) check_range(value, *schema);
    if (const bj::object* obj = value.if_object()) check_object(*obj, *schema);
    if (const bj::array* arr = value.if_array()) check_array(*arr, *schema);
  }

 private:
  void add(std::string message) { errors_.emplace_back(path_, std::move(message)); }

  static bool wants(const bj::object& schema, std::string_view type) {
    std::vector<std::string> types = types_of(schema);
    return types.empty() ||
           std::any_of(types.begin(), types.end(), [&](const auto& t) { return t == type || t == "any"; });
  }

  void check_enum(const bj::value& value, const bj::object& schema) {
    const bj::value* e = schema.if_contains("enum");
    if (!e || !e->is_array()) return;
    const bj::array& allowed = e->get_array();
    if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    std::string list;
    for (const auto& a : allowed) {
      if (!list.empty()) list += ", ";
      list += json::to_text(a);
    }
    add(json::to_text(value) + " is not one of the allowed values (" + list + ")");
  }

  void check_length(std::string_view s, const bj::object& schema) {
    std::size_t length = code_points(s);
    if (const bj::value* min = schema.if_contains("minLength"); min && min->is_number()) {
      if (static_cast<double>(length) < as_double(*min))
        add("shorter than the minimum length " + number_text(*min));
    }
    if (const bj::value* max = schema.if_contains("maxLength"); max && max->is_number()) {
      if (static_cast<double>(length) > as_double(*max))
        add("longer than the maximum length " + number_text(*max));
    }
  }

  void check_range(const bj::value& value, const bj::object& schema) {
    double v = as_double(value);
    if (const bj::value* min = schema.if_contains("minimum"); min && min->is_number()) {
      if (v < as_double(*min)) add(number_text(value) + " is less than the minimum " + number_text(*min));
    }
    if (const bj::value* max = schema.if_contains("maximum"); max && max->is_number()) {
      if (v > as_double(*max)) add(number_text(value) + " is more than the maximum " + number_text(*max));
    }
  }

  void check_object(const bj::object& obj, const bj::object& schema) {
    const bj::object* props = nullptr;
    if (const bj::value* p = schema.if_contains("properties")) props = p->if_object();
    static const bj::object kNoProperties;
    if (!props) props = &kNoProperties;

    if (const bj::value* req = schema.if_contains("required"); req && req->is_array()) {
      for (const auto& name : req->get_array()) {
        if (const bj::string* n = name.if_string(); n && !obj.contains(*n))
          add("missing required key " + json::quoted(*n));
      }
    }
    const bj::value* additional = schema.if_contains("additionalProperties");
    for (const auto& [key, value] : obj) {
      const bj::value* sub = props->if_contains(key);
      if (!sub && additional && additional->is_object()) sub = additional;
      if (sub) {
        const std::size_t parent = path_.size();
        if (parent != 0) path_ += '.';  // json::child_path, in place
        path_ += key;
        validate(value, *sub);
        path_.resize(parent);
      } else if (!additional || (additional->is_bool() && !additional->get_bool())) {
        unknown_key(key, *props);
      }
    }
  }

  void unknown_key(std::string_view key, const bj::object& props) {
    std::vector<std::string> allowed;
    for (const auto& p : props) allowed.emplace_back(p.key());
    std::string message = "unknown key " + json::quoted(key);
    message +=
        allowed.empty() ? std::string(" (no keys allowed)") : " (allowed: " + join_names(allowed) + ")";
    if (auto guess = closest_name(key, allowed)) message += "; did you mean " + json::quoted(*guess) + "?";
    add(message);
  }

  void check_array(const bj::array& arr, const bj::object& schema) {
    const bj::value* items = schema.if_contains("items");
    if (!items) return;
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::size_t parent = path_.size();
      path_ += '[';  // json::index_path, in place
      path_ += std::to_string(i);
      path_ += ']';
      validate(arr[i], *items);
      path_.resize(parent);
    }
  }

  const SchemaOptions& options_;
  std::vector<std::pair<std::string, std::string>>& errors_;
  std::string& path_;  // where the value being validated is
};

}  // namespace

std::vector<std::string> schema_problems(const bj::value& schema) {
  std::vector<std::string> problems;
  SchemaChecker(problems).check(schema, "");
  return problems;
}

void validate_against_schema(const bj::value& value, const bj::value& schema, const std::string& path,
                             const SchemaOptions& options,
                             std::vector<std::pair<std::string, std::string>>& errors) {
  // One buffer per thread for the paths: validating a matching value (the data path checks every
  // rendered step config) allocates nothing once it has grown.
  thread_local std::string where;
  where.assign(path);
  Validator(options, errors, where).validate(value, schema);
}

}  // namespace vumi::plugin
