// JSON helpers shared by every area: parsing with line/column errors, JSON paths for messages.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vumi::json {

namespace bj = boost::json;

struct ParseLimits {
  std::size_t max_depth = 64;
  bool allow_comments = false;         // operator config only
  bool allow_trailing_commas = false;  // operator config only
};

// Why a text is not JSON, with where.
struct ParseError {
  std::size_t line = 0;    // 1-based
  std::size_t column = 0;  // 1-based
  bool too_deep = false;
  std::string message;  // "line 3 col 17: syntax error"
};

// Parses text into out; on failure fills err (with line and column) and returns false. The
// value's memory comes from storage (out's own resource when null).
bool parse(std::string_view text, const ParseLimits& limits, bj::value& out, ParseError& err,
           bj::storage_ptr storage = {});

// The JSON type name of a value: "string", "object", "integer", "number", "boolean", "null", "array".
std::string_view type_name(const bj::value& v);

// Appends ".key" or "[index]" to a JSON path; an empty path gets no leading dot.
std::string child_path(std::string_view path, std::string_view key);
std::string index_path(std::string_view path, std::size_t index);

// Serialises a value compactly.
std::string to_text(const bj::value& v);

// Line and column (1-based) of a byte offset in text.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset);

// Appends s JSON-escaped, without quotes; an invalid UTF-8 byte becomes \ufffd so the result is
// always valid JSON string content.
void append_escaped(std::string& out, std::string_view s);

// Appends s as a JSON string: between quotes, escaped as append_escaped does.
void append_quoted(std::string& out, std::string_view s);

// Quotes s as a JSON string for messages ("smss").
std::string quoted(std::string_view s);

}  // namespace vumi::json
