#include "event/event_identity.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>

namespace vumi::event {

void write_fresh_event_id(char (&out)[32]) {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static const char* hex = "0123456789abcdef";
  for (std::size_t half = 0; half < 2; ++half) {
    std::uint64_t bits = generator();
    for (std::size_t i = 0; i < 16; ++i) out[half * 16 + i] = hex[(bits >> (4 * i)) & 15];
  }
}

std::string fresh_event_id() {
  char id[32];
  write_fresh_event_id(id);
  return {id, sizeof id};
}

std::string vumi_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<microseconds>(t.time_since_epoch());
  auto seconds = floor<std::chrono::seconds>(since_epoch);
  auto micros = (since_epoch - seconds).count();
  std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm parts{};
  gmtime_r(&whole, &parts);
  char text[96];  // room for any int fields, so the compiler can prove no truncation
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06d", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(micros));
  return text;
}

std::string vumi_timestamp_now() {
  return vumi_timestamp(std::chrono::system_clock::now());
}

}  // namespace vumi::event
