#include "config/field_reader.hpp"

#include <algorithm>

#include "common/closest_name.hpp"
#include "common/identifier.hpp"
#include "common/json.hpp"

namespace vumi::config {

namespace bj = boost::json;

std::string expected(std::string_view wanted, const bj::value& got) {
  return "expected " + std::string(wanted) + ", got " + std::string(json::type_name(got));
}

void FieldReader::error(std::string path, std::string message) {
  errors_.push_back(ConfigError{std::move(path), std::move(message)});
}

const bj::object* FieldReader::object(const bj::value& v, const std::string& path) {
  const bj::object* obj = v.if_object();
  if (!obj) error(path, expected("object", v));
  return obj;
}

std::optional<std::string> FieldReader::string(const bj::value& v, const std::string& path) {
  const bj::string* s = v.if_string();
  if (!s) {
    error(path, expected("string", v));
    return std::nullopt;
  }
  return std::string(*s);
}

std::optional<std::string> FieldReader::identifier(const bj::value& v, const std::string& path,
                                                   std::string_view what) {
  auto s = string(v, path);
  if (!s) return std::nullopt;
  if (auto checked = check_identifier(*s); !checked) {
    error(path, std::string(what) + " " + json::quoted(*s) + " " + checked.error().message);
    return std::nullopt;
  }
  return s;
}

std::optional<std::uint64_t> FieldReader::integer(const bj::value& v, const std::string& path,
                                                  std::uint64_t minimum, std::uint64_t maximum) {
  std::optional<std::uint64_t> n;
  if (v.is_uint64()) n = v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) n = static_cast<std::uint64_t>(v.get_int64());
  if (!v.is_int64() && !v.is_uint64()) {
    error(path, expected("integer", v));
    return std::nullopt;
  }
  if (!n || *n < minimum || *n > maximum) {
    error(path, json::to_text(v) + " is out of range (" + std::to_string(minimum) + " to " +
                    std::to_string(maximum) + ")");
    return std::nullopt;
  }
  return n;
}

void FieldReader::allowed_keys(const bj::object& obj, std::initializer_list<std::string_view> allowed,
                               const std::string& path) {
  for (const auto& member : obj) {
    std::string_view key = member.key();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::vector<std::string> names(allowed.begin(), allowed.end());  // built only for the message
    std::string message = "unknown key " + json::quoted(key) + " (allowed: " + join_names(names) + ")";
    if (auto guess = closest_name(key, names)) message += "; did you mean " + json::quoted(*guess) + "?";
    error(path, std::move(message));
  }
}

bool FieldReader::identifier_key(std::string_view key, const std::string& path, std::string_view what) {
  if (auto checked = check_identifier(key); !checked) {
    error(path, std::string(what) + " " + json::quoted(key) + " " + checked.error().message);
    return false;
  }
  return true;
}

}  // namespace vumi::config
