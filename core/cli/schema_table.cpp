#include "cli/schema_table.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <vector>

namespace vumi::cli {

namespace bj = boost::json;

namespace {

using Row = std::array<std::string, 5>;  // key, type, required, default, description

std::string type_text(const bj::object& schema) {
  std::string out;
  if (const bj::value* t = schema.if_contains("type")) {
    if (const bj::string* s = t->if_string()) {
      out = *s;
    } else if (const bj::array* list = t->if_array()) {
      for (const auto& item : *list) {
        if (!out.empty()) out += '|';
        if (const bj::string* s2 = item.if_string()) out += *s2;
      }
    }
  } else {
    out = "any";
  }
  if (const bj::value* e = schema.if_contains("enum"); e && e->is_array()) {
    std::string values;
    for (const auto& v : e->get_array()) {
      if (!values.empty()) values += '|';
      values += bj::serialize(v);
    }
    out += " (" + values + ")";
  }
  return out;
}

std::string string_of(const bj::object& schema, std::string_view key) {
  const bj::value* v = schema.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

void collect(const bj::object& schema, const std::string& prefix, std::vector<Row>& rows) {
  std::vector<std::string> required;
  if (const bj::value* r = schema.if_contains("required"); r && r->is_array()) {
    for (const auto& name : r->get_array())
      if (name.is_string()) required.emplace_back(name.get_string());
  }
  if (const bj::value* props = schema.if_contains("properties"); props && props->is_object()) {
    for (const auto& [name, sub] : props->get_object()) {
      const bj::object* s = sub.if_object();
      if (!s) continue;
      std::string key = prefix + std::string(name);
      bool is_required = std::find(required.begin(), required.end(), name) != required.end();
      const bj::value* def = s->if_contains("default");
      rows.push_back(Row{key, type_text(*s), is_required ? "yes" : "no", def ? bj::serialize(*def) : "",
                         string_of(*s, "description")});
      collect(*s, key + ".", rows);
      if (const bj::value* items = s->if_contains("items"); items && items->is_object())
        collect(items->get_object(), key + "[].", rows);
    }
  }
  if (const bj::value* extra = schema.if_contains("additionalProperties")) {
    if (const bj::object* s = extra->if_object()) {
      std::string description = string_of(*s, "description");
      rows.push_back(
          Row{prefix + "*", type_text(*s), "no", "", description.empty() ? "any other key" : description});
    } else if (extra->is_bool() && extra->get_bool()) {
      rows.push_back(Row{prefix + "*", "any", "no", "", "any other key"});
    }
  }
}

}  // namespace

std::string format_schema_table(const bj::value& schema, std::string_view indent) {
  std::vector<Row> rows;
  if (const bj::object* s = schema.if_object()) collect(*s, "", rows);
  if (rows.empty()) return std::string(indent) + "(none)\n";
  rows.insert(rows.begin(), Row{"KEY", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"});
  std::array<std::size_t, 4> width{};
  for (const auto& row : rows)
    for (std::size_t c = 0; c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    out += indent;
    for (std::size_t c = 0; c < width.size(); ++c) {
      out += row[c];
      out.append(width[c] - row[c].size() + 2, ' ');
    }
    out += row[4];
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

}  // namespace vumi::cli
