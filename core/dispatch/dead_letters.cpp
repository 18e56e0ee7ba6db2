#include "dispatch/dead_letters.hpp"

#include <spdlog/spdlog.h>

#include "store/store_values.hpp"

namespace vumi::dispatch {

void DeadLetterRecorder::record(store::DeadLetter letter) {
  if (letter.input.size() > kMaxInputBytes) {
    letter.input.resize(kMaxInputBytes);
    letter.input += "...(truncated)";
  }
  ++counters_.dead_letters;
  if (letter.source.empty()) letter.source = source_;
  std::uint64_t held_back = 0;
  bool log_now = true;
  if (!letter.coalesce_key.empty()) {
    Throttle& throttle = throttles_[letter.reason];
    const auto now = std::chrono::steady_clock::now();
    if (throttle.logged_once && now - throttle.last_logged < kLogInterval) {
      ++throttle.suppressed;
      log_now = false;
    } else {
      throttle.logged_once = true;
      throttle.last_logged = now;
      held_back = std::exchange(throttle.suppressed, 0);
    }
  }
  if (log_now && log_) {
    spdlog::warn(
        "dead letter: {}: {} (account {}, route {}, step {}{}){}", letter.reason, letter.message,
        letter.account_key.empty() ? "-" : letter.account_key, letter.route.empty() ? "-" : letter.route,
        letter.step.empty() ? "-" : letter.step, letter.source.empty() ? "" : ", from " + letter.source,
        held_back == 0 ? std::string()
                       : "; " + std::to_string(held_back) + " more " + letter.reason +
                             " not logged in the last " + std::to_string(kLogInterval.count()) + " s");
  }
  if (!letter.coalesce_key.empty()) {
    // A repeat of a key this batch has stored already costs a map update, not a write.
    auto it = repeats_.find(letter.coalesce_key);
    if (it != repeats_.end()) {
      ++it->second.count;
      it->second.last_seen_at = store::now_iso8601_utc_ms();
      return;
    }
  }
  const Expected<void> stored = store_.dead_letter_put(letter);
  if (stored && !letter.coalesce_key.empty()) repeats_.emplace(letter.coalesce_key, Repeats{});
  // A refused input held back from the log stays held back here too: a locked database must not
  // turn a flood into one error line (with the input) per message. The count still shows it.
  if (!stored && log_now)
    spdlog::error("could not store dead letter ({}); letter was: reason={} message={} account={} input={}",
                  stored.error().message, letter.reason, letter.message, letter.account_key, letter.input);
}

void DeadLetterRecorder::flush_repeats() {
  for (const auto& [key, repeats] : repeats_) {
    if (repeats.count == 0) continue;
    const Expected<void> added = store_.dead_letter_add_repeats(key, repeats.count, repeats.last_seen_at);
    if (!added)
      spdlog::error("could not count {} repeated dead letter(s): {}", repeats.count, added.error().message);
  }
  repeats_.clear();
}

void DeadLetterRecorder::flush_suppressed() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [reason, throttle] : throttles_) {
    if (throttle.suppressed == 0 || now - throttle.last_logged < kLogInterval) continue;
    spdlog::warn("dead letter: {} more {} not logged in the last {} s (see `vumi-dispatcher dead-letters`)",
                 throttle.suppressed, reason, kLogInterval.count());
    throttle.suppressed = 0;
    throttle.last_logged = now;
  }
}

}  // namespace vumi::dispatch
