#include "event/event_identity.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>
#include <type_traits>

namespace vumi::event {

namespace {

// Each byte's two hex digits, low nibble first (the order the id has always been written in).
constexpr auto kHexPairs = [] {
  constexpr std::string_view hex = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> pairs{};
  for (std::size_t b = 0; b < 256; ++b) pairs[b] = {hex[b & 15], hex[b >> 4]};
  return pairs;
}();

}  // namespace

void write_fresh_event_id(char (&out)[32]) {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  for (std::size_t half = 0; half < 2; ++half) {
    std::uint64_t bits = generator();
    for (std::size_t i = 0; i < 8; ++i, bits >>= 8)
      std::memcpy(out + half * 16 + i * 2, kHexPairs[bits & 0xff].data(), 2);
  }
}

std::string fresh_event_id() {
  char id[32];
  write_fresh_event_id(id);
  return {id, sizeof id};
}

namespace {

// Writes value as exactly width decimal digits (value < 10^width).
char* put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

}  // namespace

// With std::chrono's civil calendar, not gmtime_r + snprintf: glibc's gmtime_r takes the time
// zone lock, and this runs for every emitted event and every event without a timestamp.
std::string vumi_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto since_epoch = floor<microseconds>(t.time_since_epoch());
  const auto day = floor<days>(since_epoch);
  const year_month_day date{sys_days{day}};
  const hh_mm_ss time{since_epoch - day};
  // Always four digits of year: system_clock counts 64-bit nanoseconds, 1677 to 2262.
  static_assert(std::is_same_v<system_clock::duration, nanoseconds>);
  const int year = static_cast<int>(date.year());
  std::string text(26, '\0');  // "YYYY-MM-DD HH:MM:SS.ffffff"
  char* out = put_digits(text.data(), static_cast<unsigned>(year), 4);
  *out++ = '-';
  out = put_digits(out, static_cast<unsigned>(date.month()), 2);
  *out++ = '-';
  out = put_digits(out, static_cast<unsigned>(date.day()), 2);
  *out++ = ' ';
  out = put_digits(out, static_cast<unsigned>(time.hours().count()), 2);
  *out++ = ':';
  out = put_digits(out, static_cast<unsigned>(time.minutes().count()), 2);
  *out++ = ':';
  out = put_digits(out, static_cast<unsigned>(time.seconds().count()), 2);
  *out++ = '.';
  put_digits(out, static_cast<unsigned>(time.subseconds().count()), 6);
  return text;
}

std::string vumi_timestamp_now() {
  return vumi_timestamp(std::chrono::system_clock::now());
}

}  // namespace vumi::event
