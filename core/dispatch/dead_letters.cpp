#include "dispatch/dead_letters.hpp"

#include <spdlog/spdlog.h>

namespace vumi::dispatch {

void DeadLetterRecorder::record(store::DeadLetter letter) {
  if (letter.input.size() > kMaxInputBytes) {
    letter.input.resize(kMaxInputBytes);
    letter.input += "...(truncated)";
  }
  ++counters_.dead_letters;
  if (log_)
    spdlog::warn("dead letter: {}: {} (account {}, route {}, step {})", letter.reason, letter.message,
                 letter.account_key.empty() ? "-" : letter.account_key,
                 letter.route.empty() ? "-" : letter.route, letter.step.empty() ? "-" : letter.step);
  store::StoreStatus status = store_.dead_letter_put(letter);
  if (!status.ok)
    spdlog::error("could not store dead letter ({}); letter was: reason={} message={} account={} input={}",
                  status.error, letter.reason, letter.message, letter.account_key, letter.input);
}

}  // namespace vumi::dispatch
