#include "event/body_parser.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/identifier.hpp"
#include "common/json.hpp"
#include "common/json_value_builder.hpp"
#include "common/utf8.hpp"
#include "event/body_fields.hpp"

namespace vumi::event {

namespace bj = boost::json;

namespace {

// Builds the value as json::ValueBuilder does (refusing a number beyond a double's range), and
// also enforces the string length limit and records, in pre-order, how many members each object
// had in the text. Boost.JSON 1.81 silently keeps the last of duplicate keys, so an object of the
// built value that is smaller than its recorded count had a duplicate.
struct LimitedHandler : json::ValueBuilder {
  std::size_t max_string_bytes = 0;
  bool string_limit_hit = false;
  std::vector<std::size_t> members_parsed;  // per object, in order of appearance
  std::vector<std::size_t> open_objects;    // indices into members_parsed of unfinished objects

  void start(std::size_t string_limit, bj::storage_ptr storage) {
    ValueBuilder::start(std::move(storage));
    max_string_bytes = string_limit;
    string_limit_hit = false;
    members_parsed.clear();
    open_objects.clear();
  }

  // n is the length of the string or key so far, counting parts already seen.
  bool string_within_limit(std::size_t n, bj::error_code& ec) {
    if (n <= max_string_bytes) return true;
    string_limit_hit = true;
    ec = bj::error::string_too_large;
    return false;
  }

  bool on_object_begin(bj::error_code&) {
    open_objects.push_back(members_parsed.size());
    members_parsed.push_back(0);
    return true;
  }
  bool on_object_end(std::size_t n, bj::error_code& ec) {
    members_parsed[open_objects.back()] = n;
    open_objects.pop_back();
    return ValueBuilder::on_object_end(n, ec);
  }
  bool on_key_part(bj::string_view s, std::size_t n, bj::error_code& ec) {
    return string_within_limit(n, ec) && ValueBuilder::on_key_part(s, n, ec);
  }
  bool on_key(bj::string_view s, std::size_t n, bj::error_code& ec) {
    return string_within_limit(n, ec) && ValueBuilder::on_key(s, n, ec);
  }
  bool on_string_part(bj::string_view s, std::size_t n, bj::error_code& ec) {
    return string_within_limit(n, ec) && ValueBuilder::on_string_part(s, n, ec);
  }
  bool on_string(bj::string_view s, std::size_t n, bj::error_code& ec) {
    return string_within_limit(n, ec) && ValueBuilder::on_string(s, n, ec);
  }
};

using LimitedParser = bj::basic_parser<LimitedHandler>;

// The calling thread's parser. Kept between calls so its stacks keep their capacity; rebuilt when
// asked for another depth limit (parse_options are fixed at construction).
LimitedParser& thread_parser(std::size_t max_depth) {
  thread_local std::unique_ptr<LimitedParser> parser;
  thread_local std::size_t parser_depth = 0;
  if (!parser || parser_depth != max_depth) {
    bj::parse_options options;
    options.max_depth = max_depth;
    parser = std::make_unique<LimitedParser>(options);
    parser_depth = max_depth;
  }
  return *parser;
}

std::string where(std::string_view text, std::size_t offset) {
  auto [line, column] = json::line_column(text, offset);
  return "line " + std::to_string(line) + " col " + std::to_string(column);
}

// One step of a JSON path: an object key or an array index.
struct PathStep {
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};

// Finds, in pre-order, the first object whose member count is below the one parsed (a collapsed
// duplicate); on the way back out, steps receives its path from the inside out. next walks
// members_parsed alongside the value.
bool find_collapsed_object(const bj::value& v, const std::vector<std::size_t>& members_parsed,
                           std::size_t& next, std::vector<PathStep>& steps) {
  if (const bj::object* obj = v.if_object()) {
    std::size_t parsed = next < members_parsed.size() ? members_parsed[next] : 0;
    ++next;
    if (obj->size() != parsed) return true;
    for (const auto& member : *obj) {
      if (find_collapsed_object(member.value(), members_parsed, next, steps)) {
        steps.push_back({std::string_view(member.key().data(), member.key().size())});
        return true;
      }
    }
  } else if (const bj::array* arr = v.if_array()) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      if (find_collapsed_object((*arr)[i], members_parsed, next, steps)) {
        steps.push_back({{}, i, true});
        return true;
      }
    }
  }
  return false;
}

// The path for a message: plain keys as they are, others (dots, control bytes, long) quoted.
std::string path_text(const std::vector<PathStep>& inside_out) {
  std::string path;
  for (auto step = inside_out.rbegin(); step != inside_out.rend(); ++step) {
    if (step->is_index)
      path = json::index_path(path, step->index);
    else if (is_identifier(step->key) && step->key.size() <= 64)
      path = json::child_path(path, step->key);
    else
      path = json::child_path(path, quoted_excerpt(step->key));
  }
  return path;
}

Rejection parse_failure(std::string_view text, std::size_t consumed, const bj::error_code& ec,
                        const LimitedHandler& handler, const DecodeLimits& limits) {
  if (handler.string_limit_hit)
    return {Reason::string_too_long, where(text, consumed) + ": a string is longer than " +
                                         std::to_string(limits.max_string_bytes) + " bytes"};
  if (handler.number_out_of_range)
    return {Reason::invalid_json, where(text, consumed) + ": " + json::ValueBuilder::kOutOfRangeMessage};
  if (ec == bj::error::too_deep)
    return {Reason::too_deep, where(text, consumed) + ": nesting is deeper than " +
                                  std::to_string(limits.max_depth) + " levels"};
  // Boost.JSON reports bad UTF-8 as a syntax error; only a failed parse pays for this scan.
  if (auto bad = first_invalid_utf8(text))
    return {Reason::invalid_utf8, where(text, *bad) + ": not valid UTF-8"};
  return {Reason::invalid_json, where(text, consumed) + ": " + ec.message()};
}

}  // namespace

std::optional<Rejection> parse_body(std::string_view text, const DecodeLimits& limits, bj::value& out,
                                    bj::storage_ptr storage) {
  LimitedParser& parser = thread_parser(limits.max_depth);
  parser.reset();
  LimitedHandler& handler = parser.handler();
  handler.start(limits.max_string_bytes, std::move(storage));

  bj::error_code ec;
  std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = bj::error::extra_data;
  if (ec) return parse_failure(text, consumed, ec, handler, limits);

  out = handler.st.release();
  std::size_t next = 0;
  std::vector<PathStep> steps;
  if (find_collapsed_object(out, handler.members_parsed, next, steps)) {
    std::string path = path_text(steps);
    out = nullptr;
    return Rejection{Reason::duplicate_key, path.empty() ? "a key appears twice in the top-level object"
                                                         : "a key appears twice in the object at " + path};
  }
  return std::nullopt;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_length(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

}  // namespace vumi::event
