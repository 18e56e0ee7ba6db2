// Crash reports and quarantine for the daemon (docs/operations.md): on start, a message that was
// in flight when the previous process crashed becomes a handler_crashed dead letter and its key is
// quarantined; then the fatal-signal handler is armed for this process.
#pragma once

#include <filesystem>
#include <memory>

#include "crash/crash_record.hpp"
#include "crash/in_flight.hpp"
#include "crash/quarantine_list.hpp"
#include "dispatch/dead_letters.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class CrashGuard {
 public:
  // Maps <state_dir>/crash-record and loads the quarantined keys; throws std::runtime_error or
  // store::StoreError naming the file and the reason.
  CrashGuard(const std::filesystem::path& state_dir, store::StateStore& store);
  ~CrashGuard();  // disarms the handler
  CrashGuard(const CrashGuard&) = delete;
  CrashGuard& operator=(const CrashGuard&) = delete;

  // Logs the previous process's crash with its symbolised backtrace; the message it was handling
  // becomes a handler_crashed dead letter and is quarantined (committed before the record is
  // cleared). Call after the plugins are loaded, so their frames can be named.
  void recover_previous_crash(DeadLetterRecorder& dead_letters);
  // Installs the fatal-signal handler on the calling (dispatch) thread.
  void arm(bool json_log);
  // Re-reads the loaded modules (after a config reload loaded plugins).
  void refresh_modules();

  crash::InFlight& in_flight() { return in_flight_; }
  const crash::QuarantineList& quarantine() const { return quarantine_; }

 private:
  store::StateStore& store_;
  crash::CrashRecordFile record_;
  crash::InFlight in_flight_;
  crash::QuarantineList quarantine_;
  bool armed_ = false;
};

}  // namespace vumi::dispatch
