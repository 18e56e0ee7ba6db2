#include "store/store_values.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdint>
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

namespace {

// "30s", "10m", "2h", "7d" as seconds; -1 when text is not such a duration.
std::int64_t duration_s(std::string_view text) {
  if (text.size() < 2) return -1;
  std::int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || n > (std::int64_t{1} << 40)) return -1;
    n = n * 10 + (c - '0');
  }
  switch (text.back()) {
    case 's':
      return n;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    case 'd':
      return n * 86400;
    default:
      return -1;
  }
}

}  // namespace

Expected<std::string> time_bound(std::string_view text) {
  if (const std::int64_t seconds = duration_s(text); seconds >= 0)
    return iso8601_utc_ms(std::chrono::system_clock::now() - std::chrono::seconds(seconds));
  // Times are stored as "YYYY-MM-DDTHH:MM:SS.mmmZ" and compared as text.
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    return true;
  };
  const bool looks_iso = text.size() >= 10 && text.size() <= 30 && digits(0, 4) && text[4] == '-' &&
                         digits(5, 2) && text[7] == '-' && digits(8, 2);
  if (!looks_iso) {
    return fail(
        ErrorCode::invalid,
        "\"" + std::string(text.substr(0, 64)) +
            "\" is neither a duration (30s, 10m, 2h, 7d) nor an ISO-8601 UTC time (2026-12-02T05:00:00Z)");
  }
  std::string bound(text);
  if (bound.back() == 'Z') bound.pop_back();
  return bound;
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

Expected<void> read_contact_extra(std::string_view stored, Contact& contact) {
  boost::json::value extra;
  json::ParseError error;
  if (!json::parse(stored, {}, extra, error) || !extra.is_object())
    return store_failure("contact " + contact.contact_key + " has a stored extra that is not a JSON object");
  contact.extra = std::move(extra.as_object());
  return {};
}

std::string redacted_url(std::string_view url) {
  std::string out(url);
  // postgresql://user:password@host/...: the password sits between the ':' after the user and the '@'.
  if (const std::size_t scheme = out.find("://"); scheme != std::string::npos) {
    const std::size_t at = out.find('@', scheme);
    const std::size_t colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ?password=... in a URI, password=... in key=value form.
  for (std::size_t key = out.find("password="); key != std::string::npos;
       key = out.find("password=", key + 1)) {
    const std::size_t from = key + 9;
    const std::size_t end = out.find_first_of("& ", from);
    out.replace(from, (end == std::string::npos ? out.size() : end) - from, "***");
  }
  return out;
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
