// Helpers shared by the config tests: parse text and look at the errors by path.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vumi::config::testing {

// Every error of parsing text, as "<path>: <message>" lines.
inline std::vector<std::string> error_texts(const LoadResult& result) {
  std::vector<std::string> out;
  for (const auto& e : result.errors) out.push_back(e.text());
  return out;
}

inline std::vector<std::string> parse_errors(std::string_view text) {
  return error_texts(parse_config(text, "test.json"));
}

// A valid config with two handlers and one account, for tests to break in one place.
inline std::string base_config(std::string_view accounts_json) {
  return std::string(R"({
    "handlers": { "poll_contacts": { "type": "create_contact" },
                  "sms": { "type": "send_sms", "options": { "transport_name": "t" } } },
    "accounts": )") +
         std::string(accounts_json) + "}";
}

}  // namespace vumi::config::testing
