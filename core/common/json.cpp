#include "common/json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cstdio>
#include <iterator>
#include <memory>

#include "common/json_value_builder.hpp"

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

// Length of the valid UTF-8 sequence at the start of s (which starts with a byte >= 0x80), or 0.
std::size_t utf8_sequence_length(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t len = 0;
  unsigned min_code = 0;
  unsigned code = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min_code = 0x80, code = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min_code = 0x800, code = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min_code = 0x10000, code = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[k]);
    if ((b & 0xC0) != 0x80) return 0;
    code = (code << 6) | (b & 0x3F);
  }
  if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 0, column = 0;
  locate(text, offset, line, column);
  return {line, column};
}

namespace {

// A byte written as it is: printable ASCII but the quote and the backslash.
bool is_plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

}  // namespace

void append_escaped(std::string& out, std::string_view s) {
  // Most strings (keys, tags, ids) need no escape: their plain run is appended at once.
  std::size_t plain = 0;
  while (plain < s.size() && is_plain(static_cast<unsigned char>(s[plain]))) ++plain;
  out.append(s.data(), plain);
  std::size_t i = plain;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Copy a whole valid UTF-8 sequence; a broken one becomes U+FFFD so the line stays JSON.
      const std::size_t len = utf8_sequence_length(s.substr(i));
      if (len == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

bool parse(std::string_view text, const ParseLimits& limits, bj::value& out, ParseError& err,
           bj::storage_ptr storage) {
  bj::parse_options opts;
  opts.max_depth = limits.max_depth;
  opts.allow_comments = limits.allow_comments;
  opts.allow_trailing_commas = limits.allow_trailing_commas;
  bj::basic_parser<ValueBuilder> p(opts);
  // Without a storage (the default resource), the value lands in out's own resource, as an
  // assignment would put it.
  if (storage.get() == bj::storage_ptr().get()) storage = out.storage();
  p.handler().start(std::move(storage));
  boost::system::error_code ec;
  std::size_t consumed = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = bj::error::extra_data;
  if (ec) {
    locate(text, consumed, err.line, err.column);
    err.too_deep = (ec == bj::error::too_deep);
    err.message = "line " + std::to_string(err.line) + " col " + std::to_string(err.column) + ": " +
                  (p.handler().number_out_of_range ? ValueBuilder::kOutOfRangeMessage : ec.message());
    return false;
  }
  // Not `out = ...`: assignment would copy every node into out's memory resource; the value
  // is to live in storage.
  std::destroy_at(&out);
  std::construct_at(&out, p.handler().st.release());
  return true;
}

std::string_view type_name(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return "null";
    case bj::kind::bool_:
      return "boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
      return "integer";
    case bj::kind::double_:
      return "number";
    case bj::kind::string:
      return "string";
    case bj::kind::array:
      return "array";
    case bj::kind::object:
      return "object";
  }
  return "unknown";
}

// Both are called for every account, route and step of a config: one allocation each.
std::string child_path(std::string_view path, std::string_view key) {
  std::string out;
  out.reserve(path.size() + 1 + key.size());
  out += path;
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view path, std::size_t index) {
  char digits[24];
  const char* end = std::to_chars(std::begin(digits), std::end(digits), index).ptr;
  std::string out;
  out.reserve(path.size() + 2 + static_cast<std::size_t>(end - digits));
  out += path;
  out += '[';
  out.append(digits, static_cast<std::size_t>(end - digits));
  out += ']';
  return out;
}

std::string to_text(const bj::value& v) {
  return bj::serialize(v);
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

std::string quoted(std::string_view s) {
  return bj::serialize(bj::string(s));
}

}  // namespace vumi::json
