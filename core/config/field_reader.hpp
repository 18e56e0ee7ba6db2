// Checked reads of config values: each one either yields the value or records an error naming
// its JSON path, so a reader can carry on and report every problem in one pass.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace vumi::config {

class FieldReader {
 public:
  explicit FieldReader(std::vector<ConfigError>& errors) : errors_(errors) {}

  // Records "<path>: <message>".
  void error(std::string path, std::string message);

  // The object, or null after an "expected object, got ..." error.
  const boost::json::object* object(const boost::json::value& v, const std::string& path);
  // The string, or nullopt after an error.
  std::optional<std::string> string(const boost::json::value& v, const std::string& path);
  // A string that is an identifier ([A-Za-z0-9_:-]{1,128}); what names it in messages ("handler name").
  std::optional<std::string> identifier(const boost::json::value& v, const std::string& path,
                                        std::string_view what);
  // An integer from minimum to maximum.
  std::optional<std::uint64_t> integer(const boost::json::value& v, const std::string& path,
                                       std::uint64_t minimum, std::uint64_t maximum);

  // Records an error for every key of obj not in allowed, with a "did you mean" when one is close.
  void allowed_keys(const boost::json::object& obj, std::initializer_list<std::string_view> allowed,
                    const std::string& path);
  // Records an error when key is an identifier problem; returns whether it is an identifier.
  bool identifier_key(std::string_view key, const std::string& path, std::string_view what);

  std::size_t error_count() const { return errors_.size(); }

 private:
  std::vector<ConfigError>& errors_;
};

// "expected string, got integer".
std::string expected(std::string_view wanted, const boost::json::value& got);

}  // namespace vumi::config
