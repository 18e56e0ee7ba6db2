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

// Re-reads where the shared objects are loaded (after plugins were loaded or reloaded).
void refresh_crash_modules();

// Restores the default dispositions.
void uninstall_crash_handler();

}  // namespace vumi::crash
