#include "dispatch/crash_guard.hpp"

#include <spdlog/spdlog.h>

#include "crash/crash_handler.hpp"

namespace vumi::dispatch {

CrashGuard::CrashGuard(const std::filesystem::path& state_dir, store::StateStore& store)
    : store_(store), record_(state_dir) {
  for (const std::string& key : store_.quarantined_keys()) quarantine_.add(key);
}

CrashGuard::~CrashGuard() {
  if (armed_) crash::uninstall_crash_handler();
}

void CrashGuard::recover_previous_crash(DeadLetterRecorder& dead_letters) {
  const std::optional<crash::CrashReport> crash = record_.previous_crash();
  if (!crash) return;
  spdlog::critical("previous run crashed: {}", crash->summary());
  std::string report = crash->summary();
  const std::vector<std::string> frames = crash->backtrace();
  if (!frames.empty()) report += "; backtrace:";
  for (const std::string& frame : frames) {
    spdlog::critical("previous run crashed: {}", frame);
    report += " " + frame + ";";
  }
  if (!crash->message_key.empty()) {
    store::DeadLetter letter;
    letter.reason = "handler_crashed";
    letter.message = report;
    letter.account_key = crash->account;
    letter.route = crash->route;
    if (!crash->step.empty()) letter.step = crash->step + " (handler \"" + crash->handler_name + "\")";
    letter.input = crash->body;
    // Dead letter and quarantine commit together, before the record is cleared: a crash in
    // between handles the same record again at the next start (the key is put once).
    const Expected<void> begun = store_.begin_batch();
    dead_letters.record(std::move(letter));
    const Expected<void> put = store_.quarantine_put(crash->message_key, crash->account, report);
    const Expected<void> committed = begun ? store_.commit_batch() : Expected<void>();
    if (!put || !committed) {
      // Keep the record: the next start tries again. This run still refuses the message.
      spdlog::error("crash record {}: could not quarantine message {}: {}", record_.file().string(),
                    crash->message_key, !put ? put.error().message : committed.error().message);
      quarantine_.add(crash->message_key);
      return;
    }
    quarantine_.add(crash->message_key);
    spdlog::warn("quarantined message {}: it is a handler_crashed dead letter and will not be run again",
                 crash->message_key);
  }
  record_.clear();
}

void CrashGuard::arm(bool json_log) {
  crash::install_crash_handler(record_.layout(), in_flight_, json_log);
  armed_ = true;
}

void CrashGuard::refresh_modules() {
  crash::refresh_crash_modules();
}

}  // namespace vumi::dispatch
