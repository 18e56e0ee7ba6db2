#include "event/body_fields.hpp"

#include "common/identifier.hpp"
#include "common/json.hpp"

namespace vumi::event {

namespace bj = boost::json;

namespace {

constexpr std::size_t kExcerptBytes = 64;

}  // namespace

Rejection wrong_type(std::string_view path, std::string_view wanted, const bj::value& got) {
  std::string message(path);
  message += " must be ";
  message += wanted;
  message += ", got ";
  message += json::type_name(got);
  return {Reason::wrong_type, std::move(message)};
}

std::string quoted_excerpt(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kExcerptBytes; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (s.size() > kExcerptBytes) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

const bj::value* find_member(const bj::object& obj, std::string_view name, bool null_is_absent) {
  const bj::value* v = obj.if_contains(bj::string_view(name.data(), name.size()));
  if (v && null_is_absent && v->is_null()) return nullptr;
  return v;
}

bj::value* find_member(bj::object& obj, std::string_view name, bool null_is_absent) {
  bj::value* v = obj.if_contains(bj::string_view(name.data(), name.size()));
  if (v && null_is_absent && v->is_null()) return nullptr;
  return v;
}

std::optional<Rejection> expect_string(const bj::value& v, std::string_view path) {
  if (!v.is_string()) return wrong_type(path, "a string", v);
  return std::nullopt;
}

std::optional<Rejection> expect_identifier(const bj::value& v, std::string_view path) {
  if (auto r = expect_string(v, path)) return r;
  std::string_view s = string_of(v);
  if (is_identifier(s)) return std::nullopt;  // the common case, without building a message
  if (auto checked = check_identifier(s); !checked) {
    std::string message(path);
    message += ' ';
    message += quoted_excerpt(s);
    message += ' ';
    message += checked.error().message;
    return Rejection{Reason::bad_identifier, std::move(message)};
  }
  return std::nullopt;
}

std::optional<Rejection> expect_object(const bj::value& v, std::string_view path) {
  if (!v.is_object()) return wrong_type(path, "an object", v);
  return std::nullopt;
}

Rejection missing_field(std::string_view path) {
  return {Reason::missing_field, std::string(path)};
}

}  // namespace vumi::event
