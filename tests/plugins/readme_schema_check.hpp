// Checks a plugin README's option and step-config tables against the schema the plugin declares.
//
// README tables look like this (nested properties as dotted keys, types joined by " or ",
// defaults as JSON, "—" for none):
//   | Key | Type | Required | Default | Description |
//   |---|---|---|---|---|
//   | `transport_type` | string | no | `"sms"` | ... |
// A section whose schema has no properties says so in prose and has no table rows.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <vumi/testing.hpp>

namespace vumi::plugin_tests {

namespace json = boost::json;

struct TableRow {
  std::string key, type, required, default_text;
  bool operator==(const TableRow&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const TableRow& r) {
  return os << "| " << r.key << " | " << r.type << " | " << r.required << " | " << r.default_text << " |";
}

inline std::string strip(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  s = s.substr(first, s.find_last_not_of(" \t") - first + 1);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  return s;
}

// The rows of the table under the "## <section>" heading (up to the next "## ").
inline std::vector<TableRow> readme_rows(const std::string& readme_path, const std::string& section) {
  std::ifstream in(readme_path);
  EXPECT_TRUE(in.good()) << "cannot read " << readme_path;
  std::vector<TableRow> rows;
  std::string line;
  bool inside = false, seen_section = false;
  int row_index = 0;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      inside = line == "## " + section;
      seen_section = seen_section || inside;
      row_index = 0;
      continue;
    }
    if (!inside || line.rfind("|", 0) != 0) continue;
    if (row_index++ < 2) continue;  // header and separator
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(strip(cell));
    EXPECT_GE(cells.size(), 5u) << "short table row in " << readme_path << ": " << line;
    if (cells.size() >= 4) rows.push_back({cells[0], cells[1], cells[2], cells[3]});
  }
  EXPECT_TRUE(seen_section) << readme_path << " has no \"## " << section << "\" section";
  return rows;
}

inline std::string type_text(const json::object& schema) {
  const json::value* t = schema.if_contains("type");
  if (!t) return "any";
  if (t->is_string()) return std::string(t->as_string());
  std::string out;
  for (const json::value& v : t->as_array()) out += (out.empty() ? "" : " or ") + std::string(v.as_string());
  return out;
}

// One row per declared property, nested object properties as dotted keys after their parent.
inline void schema_rows(const json::object& schema, const std::string& prefix, std::vector<TableRow>& rows) {
  const json::value* props = schema.if_contains("properties");
  if (!props) return;
  std::vector<std::string> required;
  if (const json::value* r = schema.if_contains("required"))
    for (const json::value& name : r->as_array()) required.emplace_back(name.as_string());
  for (const auto& p : props->as_object()) {
    const json::object& s = p.value().as_object();
    const std::string key = prefix + std::string(p.key());
    const bool is_required =
        std::find(required.begin(), required.end(), std::string(p.key())) != required.end();
    const json::value* def = s.if_contains("default");
    rows.push_back({key, type_text(s), is_required ? "yes" : "no", def ? json::serialize(*def) : "—"});
    schema_rows(s, key + ".", rows);
  }
}

// Every declared property has a description (the README's last column comes from the same place).
inline void expect_described(const json::object& schema, const std::string& where) {
  if (const json::value* props = schema.if_contains("properties"))
    for (const auto& p : props->as_object()) {
      const json::object& s = p.value().as_object();
      EXPECT_TRUE(s.contains("description")) << where << "." << p.key() << " has no description";
      expect_described(s, where + "." + std::string(p.key()));
    }
}

// The README's "Options" and "Step config" tables match the handler type's declared schemas.
inline void expect_readme_matches_schema(const vumi::testing::FakeHost& host, const std::string& type_name,
                                         const std::string& readme_path) {
  const json::object options = host.options_schema(type_name);
  const json::object step = host.step_schema(type_name);
  std::vector<TableRow> want_options, want_step;
  schema_rows(options, "", want_options);
  schema_rows(step, "", want_step);
  EXPECT_EQ(readme_rows(readme_path, "Options"), want_options) << readme_path;
  EXPECT_EQ(readme_rows(readme_path, "Step config"), want_step) << readme_path;
  expect_described(options, "options");
  expect_described(step, "config");
}

}  // namespace vumi::plugin_tests
