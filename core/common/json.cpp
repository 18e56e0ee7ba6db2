#include "common/json.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace vumi::json {

namespace {

// Line and column (1-based) of byte offset in text.
void locate(std::string_view text, std::size_t offset, std::size_t& line, std::size_t& column) {
  line = 1;
  column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
}

}  // namespace

bool parse(std::string_view text, const ParseLimits& limits, bj::value& out, ParseError& err) {
  bj::parse_options opts;
  opts.max_depth = limits.max_depth;
  opts.allow_comments = limits.allow_comments;
  opts.allow_trailing_commas = limits.allow_trailing_commas;
  bj::parser p({}, opts);
  boost::system::error_code ec;
  // parser::write parses one complete text: trailing data and premature ends are errors.
  std::size_t consumed = p.write(text.data(), text.size(), ec);
  if (ec) {
    locate(text, consumed, err.line, err.column);
    err.too_deep = (ec == bj::error::too_deep);
    err.message = "line " + std::to_string(err.line) + " col " + std::to_string(err.column) + ": " + ec.message();
    return false;
  }
  out = p.release();
  return true;
}

std::string_view type_name(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "boolean";
    case bj::kind::int64:
    case bj::kind::uint64: return "integer";
    case bj::kind::double_: return "number";
    case bj::kind::string: return "string";
    case bj::kind::array: return "array";
    case bj::kind::object: return "object";
  }
  return "unknown";
}

std::string child_path(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view path, std::size_t index) {
  std::string out(path);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::string to_text(const bj::value& v) { return bj::serialize(v); }

std::string quoted(std::string_view s) { return bj::serialize(bj::string(s)); }

}  // namespace vumi::json
