// Lets a repeating warning through at most once per interval and says how many were held back.
#pragma once

#include <chrono>
#include <cstdint>

namespace vumi::transport {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Records one occurrence; true when it should be logged now. suppressed() then tells how many
  // occurrences since the last logged one were not logged.
  bool admit() {
    const auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_logged_ < interval_) {
      ++pending_;
      return false;
    }
    logged_once_ = true;
    last_logged_ = now;
    suppressed_ = pending_;
    pending_ = 0;
    return true;
  }

  std::uint64_t suppressed() const { return suppressed_; }

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_logged_{};
  bool logged_once_ = false;
  std::uint64_t pending_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace vumi::transport
