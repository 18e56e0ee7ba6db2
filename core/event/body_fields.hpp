// Reading the typed fields of a decoded body, with rejections worded the same way everywhere:
// "missing_field: event_type", "wrong_type: event_type must be a string, got integer",
// "bad_identifier: account_key \"a.b\" contains '.' (allowed: ...)".
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "event/rejection.hpp"

namespace vumi::event {

// s as a short, printable, double-quoted excerpt for messages (long or binary input is shortened
// and escaped, since it comes from the network).
std::string quoted_excerpt(std::string_view s);

// The member `name` of obj, or nullptr when absent. `null` counts as absent when null_is_absent.
const boost::json::value* find_member(const boost::json::object& obj, std::string_view name,
                                      bool null_is_absent = false);

// The member `name` of obj for moving out of it, or nullptr when absent (or null when null_is_absent).
boost::json::value* find_member(boost::json::object& obj, std::string_view name, bool null_is_absent = false);

// "wrong_type: <path> must be <wanted>, got <type of got>"
Rejection wrong_type(std::string_view path, std::string_view wanted, const boost::json::value& got);

// Checks that v is a string; the rejection names `path`.
std::optional<Rejection> expect_string(const boost::json::value& v, std::string_view path);

// Checks that v is a string holding an identifier ([A-Za-z0-9_:-]{1,128}).
std::optional<Rejection> expect_identifier(const boost::json::value& v, std::string_view path);

// Checks that v is an object.
std::optional<Rejection> expect_object(const boost::json::value& v, std::string_view path);

// "missing_field: <path>"
Rejection missing_field(std::string_view path);

// The string a value holds, as a view into it (v must be a string).
inline std::string_view string_of(const boost::json::value& v) {
  const boost::json::string& s = v.get_string();
  return {s.data(), s.size()};
}

}  // namespace vumi::event
