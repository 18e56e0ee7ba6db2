// Small helpers shared by the plugins in this repository. Header-only, and like the plugins themselves
// written only against the public SDK (vumi/plugin.hpp), the standard library and Boost.JSON.
// Not a plugin: plugins/shared/ has no CMakeLists.txt; each plugin adds plugins/ to its include path.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace vumi_plugins {

// Options schema of a handler type that takes no options (the host then refuses any key).
inline constexpr const char* kNoOptionsSchema =
    R"({"type": "object", "properties": {}, "additionalProperties": false})";

// `s` without leading and trailing spaces, tabs, CRs and LFs; a view into `s`, empty when all blank.
inline std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// True when `s` may be a topic part under the wire protocol's identifier rule: [A-Za-z0-9_:-]{1,128}.
inline bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == ':' || c == '-'))
      return false;
  return true;
}

// The current time in Vumi's timestamp format, "%Y-%m-%d %H:%M:%S.%f", in UTC.
inline std::string vumi_timestamp_now() {
  const auto now = std::chrono::system_clock::now();
  const long long micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld", micros);
  return std::string(date) + fraction;
}

// Why `plugin` cannot handle an event of `event_type` (it handles inbound_message only); nullopt if it can.
inline std::optional<std::string> not_inbound_message(std::string_view plugin, std::string_view event_type) {
  if (event_type == "inbound_message") return std::nullopt;
  return std::string(plugin) + " handles inbound_message events only, got event_type \"" +
         std::string(event_type) + "\"";
}

// The inbound user message in the event's event_data, or why there is none (event_data not an object).
inline std::variant<boost::json::object, std::string> inbound_user_message(std::string_view event_json) {
  const boost::json::value event = boost::json::parse(event_json);
  const boost::json::value* data = event.as_object().if_contains("event_data");
  if (!data || !data->is_object())
    return std::string("event_data: must be the inbound user message (an object)");
  return data->as_object();
}

}  // namespace vumi_plugins
