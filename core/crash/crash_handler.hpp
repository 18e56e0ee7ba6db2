// The fatal-signal handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT). Async-signal-safe: it copies
// what is in flight into the mapped crash record, writes the report to stderr (the log) with
// write(2), dumps the frames as module + offset with Boost.Stacktrace's safe_dump_to, and lets the
// signal kill the process. Symbolising the frames waits for the next start (CrashReport::backtrace).
#pragma once

#include "crash/crash_record.hpp"
#include "crash/in_flight.hpp"

namespace vumi::crash {

// Installs the handler for this process, called on the dispatch thread (which gets an alternate
// signal stack, so a stack overflow is reported too). One at a time; json_log matches the log
// format. record and in_flight must outlive uninstall_crash_handler().
void install_crash_handler(CrashRecordLayout& record, const InFlight& in_flight, bool json_log);

// The in-flight record of the dispatch worker running on the calling thread (null: the one given
// to install_crash_handler, for the dispatch thread). The handler runs on the thread that faults
// and reads this thread's record, so each worker thread reports its own message.
void set_thread_in_flight(const InFlight* in_flight) noexcept;
const InFlight* thread_in_flight() noexcept;

// Sets the calling thread's in-flight record for the life of the object, then restores it.
class ThreadInFlight {
 public:
  explicit ThreadInFlight(const InFlight* in_flight) noexcept : previous_(thread_in_flight()) {
    set_thread_in_flight(in_flight);
  }
  ~ThreadInFlight() { set_thread_in_flight(previous_); }
  ThreadInFlight(const ThreadInFlight&) = delete;
  ThreadInFlight& operator=(const ThreadInFlight&) = delete;

 private:
  const InFlight* previous_;
};

// Gives the calling thread an alternate signal stack of its own for the life of the object, so the
// handler can run, and report, when that thread overflows its stack. The dispatch thread gets one
// from install_crash_handler; each dispatch worker thread makes one of these.
class ThreadSignalStack {
 public:
  ThreadSignalStack() noexcept;
  ~ThreadSignalStack();
  ThreadSignalStack(const ThreadSignalStack&) = delete;
  ThreadSignalStack& operator=(const ThreadSignalStack&) = delete;

 private:
  void* stack_ = nullptr;  // null when mmap or sigaltstack failed (the thread then has none)
};

// Re-reads where the shared objects are loaded (after plugins were loaded or reloaded).
void refresh_crash_modules();

// Restores the default dispositions.
void uninstall_crash_handler();

}  // namespace vumi::crash
