// Records work that could not be done (refused input, failed steps) in the state store and logs it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "dispatch/counters.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class DeadLetterRecorder {
 public:
  // log false: no log line per letter (a dry run, whose letters are reported to its caller).
  DeadLetterRecorder(store::StateStore& store, Counters& counters, bool log = true)
      : store_(store), counters_(counters), log_(log) {}

  // Stores the letter (its input cut to kMaxInputBytes, marked as cut) and logs one warning line;
  // if the store fails too, logs the whole letter at error level so nothing vanishes silently.
  // Letters with a coalesce_key (refused input) coalesce in the store and their warnings are rate
  // limited per reason: at most one per kLogInterval, the next one saying how many were held back.
  void record(store::DeadLetter letter);

  // Where the work being done came from; record() gives it to letters that name no source.
  void set_source(std::string_view source) {
    if (source != source_) source_.assign(source);  // usually the same publisher as the last message
  }

  // Writes the repeats of coalesced letters counted in memory since the last flush (one update per
  // key instead of one per message); call it before each batch commits.
  void flush_repeats();

  // Logs, per reason, how many warnings were held back since the last line (call it from time to
  // time, so the count of a flood that stopped is still told).
  void flush_suppressed();

  // Enough of a raw input for record() to keep what it keeps and still see whether it was cut.
  static std::string input_excerpt(std::string_view raw) {
    return std::string(raw.substr(0, kMaxInputBytes + 1));
  }

  static constexpr std::size_t kMaxInputBytes = 64 * 1024;
  static constexpr std::chrono::seconds kLogInterval{5};

 private:
  struct Throttle {
    std::chrono::steady_clock::time_point last_logged{};
    bool logged_once = false;
    std::uint64_t suppressed = 0;
  };

  store::StateStore& store_;
  Counters& counters_;
  std::string source_;
  std::map<std::string, Throttle, std::less<>> throttles_;  // by reason: bounded by the reason codes
  struct Repeats {
    std::int64_t count = 0;    // occurrences not yet written
    std::string last_seen_at;  // of the latest one
  };
  // Coalesce keys stored since the last flush, with the repeats held since; bounded by the keys
  // one batch can make (at most one per message).
  std::map<std::string, Repeats, std::less<>> repeats_;
  bool log_ = true;
};

}  // namespace vumi::dispatch
