// Records work that could not be done (refused input, failed steps) in the state store and logs it.
#pragma once

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
  void record(store::DeadLetter letter);

  // Enough of a raw input for record() to keep what it keeps and still see whether it was cut.
  static std::string input_excerpt(std::string_view raw) {
    return std::string(raw.substr(0, kMaxInputBytes + 1));
  }

  static constexpr std::size_t kMaxInputBytes = 64 * 1024;

 private:
  store::StateStore& store_;
  Counters& counters_;
  bool log_ = true;
};

}  // namespace vumi::dispatch
