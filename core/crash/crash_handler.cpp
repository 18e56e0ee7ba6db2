#include "crash/crash_handler.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <boost/stacktrace/safe_dump_to.hpp>
#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

#include "crash/module_map.hpp"

namespace vumi::crash {

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr std::size_t kSignalCount = sizeof(kFatalSignals) / sizeof(kFatalSignals[0]);
// The unwinder and the report's line buffer run on it; a stack overflow leaves no other stack.
constexpr std::size_t kAltStackBytes = 256 * 1024;

// Everything the handler reads, in static storage, set up before it is installed.
struct HandlerState {
  CrashRecordLayout* record = nullptr;
  const InFlight* in_flight = nullptr;
  bool json_log = false;
  pid_t dispatch_tid = 0;
  LoadedModule modules[kMaxModules];
  std::size_t module_count = 0;
  struct sigaction previous[kSignalCount] = {};
  void* alt_stack = nullptr;
  bool installed = false;
};

HandlerState g_state;

// Static TLS of the executable: reading it in the signal handler allocates nothing.
thread_local const InFlight* t_in_flight __attribute__((tls_model("initial-exec"))) = nullptr;
std::atomic<pid_t> g_crashing_tid{0};

pid_t current_tid() noexcept {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

template <std::size_t N>
void copy_text(FixedText<N>& out, std::string_view in) noexcept {
  const std::size_t n = in.size() < N ? in.size() : N;
  if (n > 0) std::memcpy(out.data, in.data(), n);
  out.size = static_cast<std::uint32_t>(n);
}

// Text built in a fixed buffer, without allocating (this runs in a signal handler); what does not
// fit is cut.
class PathText {
 public:
  PathText& operator<<(std::string_view text) noexcept {
    const std::size_t n = text.size() < sizeof(data_) - size_ ? text.size() : sizeof(data_) - size_;
    std::memcpy(data_ + size_, text.data(), n);
    size_ += n;
    return *this;
  }
  PathText& operator<<(std::size_t number) noexcept {
    char digits[24];
    const char* end = std::to_chars(digits, digits + sizeof(digits), number).ptr;
    return *this << std::string_view(digits, static_cast<std::size_t>(end - digits));
  }
  std::string_view view() const noexcept { return {data_, size_}; }

 private:
  char data_[512];
  std::size_t size_ = 0;
};

// The running step's route and step paths, as config::route_path and config::step_path spell them.
PathText& route_path(const InFlight& f, PathText& out) noexcept {
  return out << "accounts." << f.account << ".routes[" << f.route << "]";
}
PathText& step_path(const InFlight& f, PathText& out) noexcept {
  return route_path(f, out) << ".chain[" << f.step << "]";
}

template <std::size_t N>
std::string_view view_of(const FixedText<N>& text) noexcept {
  return std::string_view(text.data, text.size < N ? text.size : N);
}

// One log line built in a fixed buffer and written with write(2): the log's format (text or
// JSON) without spdlog, which allocates and locks.
class LineWriter {
 public:
  explicit LineWriter(bool json) : json_(json) {}

  void begin() noexcept {
    size_ = 0;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::int64_t days = now.tv_sec / 86400;
    std::int64_t secs = now.tv_sec % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil inverse).
    const std::int64_t z = days + 719468;
    const std::int64_t era = z / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2);
    if (json_) raw("{\"time\":\"");
    digits(static_cast<std::uint64_t>(year), 4);
    raw("-");
    digits(static_cast<std::uint64_t>(month), 2);
    raw("-");
    digits(static_cast<std::uint64_t>(day), 2);
    raw(json_ ? "T" : " ");
    digits(static_cast<std::uint64_t>(secs / 3600), 2);
    raw(":");
    digits(static_cast<std::uint64_t>(secs / 60 % 60), 2);
    raw(":");
    digits(static_cast<std::uint64_t>(secs % 60), 2);
    raw(".");
    digits(static_cast<std::uint64_t>(now.tv_nsec / 1'000'000), 3);
    raw(json_ ? "Z\",\"level\":\"critical\",\"msg\":\"" : " critical ");
    text("crash: ");
  }

  // Message text (escaped inside a JSON string).
  void text(std::string_view s) noexcept {
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (json_ && (c == '"' || c == '\\')) {
        put('\\');
        put(c);
      } else if (json_ && u < 0x20) {
        raw("\\u00");
        put("0123456789abcdef"[u >> 4]);
        put("0123456789abcdef"[u & 0xf]);
      } else if (!json_ && u < 0x20) {
        put(' ');  // one report line stays one log line
      } else {
        put(c);
      }
    }
  }
  void quoted(std::string_view s) noexcept {
    text("\"");
    text(s);
    text("\"");
  }
  void number(std::uint64_t value) noexcept {
    char out[24];
    std::size_t n = 0;
    do {
      out[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value > 0);
    while (n > 0) put(out[--n]);
  }
  void hex(std::uint64_t value) noexcept {
    raw("0x");
    char out[16];
    std::size_t n = 0;
    do {
      out[n++] = "0123456789abcdef"[value & 0xf];
      value >>= 4;
    } while (value > 0);
    while (n > 0) put(out[--n]);
  }

  void end() noexcept {
    raw(json_ ? "\"}\n" : "\n");
    std::size_t done = 0;
    while (done < size_) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_ + done, size_ - done);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  void put(char c) noexcept {
    if (size_ < sizeof(buffer_) - 4) buffer_[size_++] = c;  // room for the line's end
  }
  void raw(std::string_view s) noexcept {
    for (char c : s) put(c);
  }
  void digits(std::uint64_t value, int width) noexcept {
    char out[20];
    for (int i = width - 1; i >= 0; --i) {
      out[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    for (int i = 0; i < width; ++i) put(out[i]);
  }

  bool json_;
  char buffer_[4096];
  std::size_t size_ = 0;
};

std::uintptr_t context_pc(void* context) noexcept {
  if (context == nullptr) return 0;
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return 0;
#endif
}

void write_report(int signal_number, const siginfo_t* info, void* context, pid_t tid) noexcept {
  CrashRecordLayout* r = g_state.record;
  const InFlight* f = t_in_flight ? t_in_flight : g_state.in_flight;
  const bool on_dispatch_thread = t_in_flight != nullptr || tid == g_state.dispatch_tid;
  const bool in_message = on_dispatch_thread && f != nullptr && !f->topic.empty();
  const bool in_plugin = in_message && !f->plugin.empty();
  const bool fault = signal_number != SIGABRT && info != nullptr && info->si_code > 0;
  const std::uint64_t fault_address = info ? reinterpret_cast<std::uintptr_t>(info->si_addr) : 0;

  // The record first, the small fields before the body, so a fault while copying still leaves
  // the most useful part behind.
  if (r) {
    r->crashed = 1;
    r->signal = signal_number;
    r->signal_code = info ? info->si_code : 0;
    r->fault_address = fault_address;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    r->unix_ms = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
    r->pid = ::getpid();
    r->tid = tid;
    r->on_dispatch_thread = on_dispatch_thread;
    r->message_in_flight = in_message;
    if (in_message) {
      copy_text(r->topic, f->topic);
      copy_text(r->account, f->account);
      copy_text(r->event_id, f->event_id);
      if (in_plugin) {
        copy_text(r->plugin, f->plugin);
        copy_text(r->handler_type, f->handler_type);
        copy_text(r->handler_name, f->handler_name);
        PathText route_text, step_text;
        copy_text(r->route, route_path(*f, route_text).view());
        copy_text(r->step, step_path(*f, step_text).view());
      }
    }
  }

  LineWriter line(g_state.json_log);
  line.begin();
  line.text(signal_name(signal_number));
  if (fault) {
    line.text(" (address ");
    line.hex(fault_address);
    line.text(")");
  }
  if (!on_dispatch_thread) {
    line.text(" on thread ");
    line.number(static_cast<std::uint64_t>(tid));
    line.text(", not the dispatch thread: no event is blamed");
  } else if (!in_message) {
    line.text(" on the dispatch thread between messages");
  } else {
    if (in_plugin) {
      line.text(" in plugin ");
      line.quoted(f->plugin);
      line.text(" handler type ");
      line.quoted(f->handler_type);
      line.text(" handler ");
      line.quoted(f->handler_name);
    } else {
      line.text(" in host code");
    }
    line.text(" (account ");
    line.quoted(f->account.substr(0, 160));
    line.text(", event ");
    line.quoted(f->event_id.substr(0, 160));
    if (in_plugin) {
      PathText route_text, step_text;
      line.text(", route ");
      line.quoted(route_path(*f, route_text).view());
      line.text(", step ");
      line.quoted(step_path(*f, step_text).view());
    }
    line.text(", topic ");
    line.quoted(f->topic.substr(0, 256));
    line.text(")");
  }
  line.end();

  if (in_message && r) {
    r->message_key.size = static_cast<std::uint32_t>(
        write_key(r->message_key.data, f->message_event_id.substr(0, 128), f->topic, f->body));
    copy_text(r->body, f->body);
    r->body_size = f->body.size();
    line.begin();
    line.text("the message (");
    line.text(view_of(r->message_key));
    line.text(", ");
    line.number(r->body_size);
    line.text(
        " bytes) is kept in the crash record: when the daemon starts again it becomes a "
        "handler_crashed dead letter and is not run again, nor any copy of it sent later");
    line.end();
  }

  // The frames last: unwinding a corrupted stack may fault again, which ends the process at once.
  void* frames[kMaxFrames + 8];
  const std::size_t count = boost::stacktrace::safe_dump_to(0, frames, sizeof(frames));
  // Start at the frame that faulted; the ones before it are this handler and the signal trampoline.
  std::size_t first = 0;
  if (const std::uintptr_t pc = context_pc(context)) {
    for (std::size_t i = 0; i < count; ++i) {
      if (reinterpret_cast<std::uintptr_t>(frames[i]) == pc) {
        first = i;
        break;
      }
    }
  }
  std::size_t recorded = 0;
  for (std::size_t i = first; i < count && recorded < kMaxFrames; ++i, ++recorded) {
    const auto address = reinterpret_cast<std::uintptr_t>(frames[i]);
    if (address == 0) break;
    const LoadedModule* module = find_module(g_state.modules, g_state.module_count, address);
    const std::uint64_t offset = module ? address - module->base : address;
    if (r) {
      r->frames[recorded].module = module ? static_cast<std::uint32_t>(module - g_state.modules) : kNoModule;
      r->frames[recorded].offset = offset;
    }
    line.begin();
    line.text("#");
    line.number(recorded);
    line.text(" ");
    if (module) {
      line.text(std::string_view(module->path, module->path_size));
      line.text("+");
    }
    line.hex(offset);
    line.end();
  }
  if (r) {
    for (std::size_t m = 0; m < g_state.module_count; ++m)
      copy_text(r->modules[m], std::string_view(g_state.modules[m].path, g_state.modules[m].path_size));
    r->module_count = static_cast<std::uint32_t>(g_state.module_count);
    r->frame_count = static_cast<std::uint32_t>(recorded);
  }
  line.begin();
  line.text(
      "the backtrace above is symbolised in the log when the daemon starts again; the process ends now");
  line.end();
}

void restore_default(int signal_number) noexcept {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(signal_number, &action, nullptr);
}

void on_fatal_signal(int signal_number, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const pid_t tid = current_tid();
  pid_t expected = 0;
  if (!g_crashing_tid.compare_exchange_strong(expected, tid)) {
    if (expected != tid) {
      // Another thread is writing its report: give it time before this signal ends the process.
      for (int i = 0; i < 50; ++i) {
        timespec pause{0, 100'000'000};
        ::nanosleep(&pause, nullptr);
      }
    }
    // A second fatal signal on the reporting thread (or after the wait): end with the default.
    restore_default(signal_number);
    if (info == nullptr || info->si_code <= 0) ::raise(signal_number);
    return;
  }
  write_report(signal_number, info, context, tid);
  // SA_RESETHAND made the disposition the default again. A fault re-executes its instruction when
  // the handler returns and ends the process with the same signal (and a core dump where enabled);
  // a signal that was sent or raised (abort) is raised again.
  if (info == nullptr || info->si_code <= 0 || signal_number == SIGABRT) ::raise(signal_number);
  errno = saved_errno;
}

}  // namespace

void refresh_crash_modules() {
  auto modules = std::make_unique<LoadedModule[]>(kMaxModules);
  const std::size_t count = list_loaded_modules(modules.get(), kMaxModules);
  g_state.module_count = 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  for (std::size_t i = 0; i < count; ++i) g_state.modules[i] = modules[i];
  std::atomic_signal_fence(std::memory_order_seq_cst);
  g_state.module_count = count;
}

void set_thread_in_flight(const InFlight* in_flight) noexcept {
  t_in_flight = in_flight;
}

const InFlight* thread_in_flight() noexcept {
  return t_in_flight;
}

void install_crash_handler(CrashRecordLayout& record, const InFlight& in_flight, bool json_log) {
  uninstall_crash_handler();
  g_state.record = &record;
  g_state.in_flight = &in_flight;
  g_state.json_log = json_log;
  g_state.dispatch_tid = current_tid();
  refresh_crash_modules();
  if (!g_state.alt_stack) {
    void* stack = ::mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack != MAP_FAILED) g_state.alt_stack = stack;
  }
  if (g_state.alt_stack) {
    stack_t alt{};
    alt.ss_sp = g_state.alt_stack;
    alt.ss_size = kAltStackBytes;
    ::sigaltstack(&alt, nullptr);
  }
  // The unwinder's first use may allocate and look up the loaded objects: do it here, not in
  // the handler.
  void* warm_up[8];
  (void)boost::stacktrace::safe_dump_to(0, warm_up, sizeof(warm_up));

  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  ::sigfillset(&action.sa_mask);
  g_crashing_tid = 0;
  for (std::size_t i = 0; i < kSignalCount; ++i) ::sigaction(kFatalSignals[i], &action, &g_state.previous[i]);
  g_state.installed = true;
}

ThreadSignalStack::ThreadSignalStack() noexcept {
  void* stack = ::mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return;
  stack_t alt{};
  alt.ss_sp = stack;
  alt.ss_size = kAltStackBytes;
  if (::sigaltstack(&alt, nullptr) != 0) {
    ::munmap(stack, kAltStackBytes);
    return;
  }
  stack_ = stack;
}

ThreadSignalStack::~ThreadSignalStack() {
  if (!stack_) return;
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  ::sigaltstack(&off, nullptr);
  ::munmap(stack_, kAltStackBytes);
}

void uninstall_crash_handler() {
  if (!g_state.installed) return;
  for (std::size_t i = 0; i < kSignalCount; ++i) ::sigaction(kFatalSignals[i], &g_state.previous[i], nullptr);
  g_state.installed = false;
  g_state.record = nullptr;
  g_state.in_flight = nullptr;
}

}  // namespace vumi::crash
