#include "store/store_values.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <ctime>

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

}  // namespace vumi::store
