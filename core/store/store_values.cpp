#include "store/store_values.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <ctime>

#include "common/json.hpp"

namespace vumi::store {

std::string iso8601_utc_ms(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  auto ms_since_epoch = duration_cast<milliseconds>(when.time_since_epoch()).count();
  auto seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  auto millis = static_cast<int>(ms_since_epoch % 1000);
  if (millis < 0) {  // before 1970: floor, so the fraction stays positive
    millis += 1000;
    seconds -= 1;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 96> text{};  // room for any int fields, so -Wformat-truncation is satisfied
  std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return text.data();
}

std::string now_iso8601_utc_ms() {
  return iso8601_utc_ms(std::chrono::system_clock::now());
}

std::string random_contact_key() {
  std::array<unsigned char, 16> bytes{};
  sqlite3_randomness(static_cast<int>(bytes.size()), bytes.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  key.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    key += kHex[byte >> 4];
    key += kHex[byte & 0x0f];
  }
  return key;
}

// Checks upsert fields; returns the problem, or an empty string when they are usable.
std::string contact_fields_problem(const boost::json::object& fields) {
  for (const auto& field : fields) {
    const std::string_view key = field.key();
    const boost::json::value& value = field.value();
    if (key == "msisdn" || key == "name" || key == "surname") {
      if (!value.is_string()) {
        return "contact field " + json::quoted(key) + " must be a string, not " +
               std::string(json::type_name(value));
      }
    } else if (key == "extra") {
      if (!value.is_object()) {
        return "contact field \"extra\" must be an object, not " + std::string(json::type_name(value));
      }
    } else {
      return "unknown contact field " + json::quoted(key) + " (expected msisdn, name, surname, extra)";
    }
  }
  const boost::json::value* msisdn = fields.if_contains("msisdn");
  if (msisdn == nullptr) return "contact field \"msisdn\" is required";
  if (msisdn->as_string().empty()) return "contact field \"msisdn\" is empty";
  return {};
}

}  // namespace vumi::store
