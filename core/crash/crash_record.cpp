#include "crash/crash_record.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/stacktrace/frame.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "crash/module_map.hpp"

namespace vumi::crash {

namespace {

constexpr char kMagic[8] = {'V', 'U', 'M', 'I', 'C', 'R', '0', '1'};

template <std::size_t N>
std::string text_of(const FixedText<N>& text) {
  return std::string(text.data, text.size < N ? text.size : N);
}

std::string hex(std::uint64_t value) {
  char out[19];
  std::snprintf(out, sizeof(out), "0x%llx", static_cast<unsigned long long>(value));
  return out;
}

std::string utc_time(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char out[96];
  std::snprintf(out, sizeof(out), "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return out;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

const char* signal_name(int signal_number) noexcept {
  switch (signal_number) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    default:
      return "a fatal signal";
  }
}

CrashRecordFile::CrashRecordFile(const std::filesystem::path& state_dir) : file_(state_dir / "crash-record") {
  auto fail = [&](const char* what) {
    const int e = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("crash record " + file_.string() + ": " + what + ": " + std::strerror(e));
  };
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) fail("cannot open");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat");
  const bool fresh = static_cast<std::size_t>(st.st_size) != sizeof(CrashRecordLayout);
  if (fresh && ::ftruncate(fd_, sizeof(CrashRecordLayout)) != 0) fail("cannot size");
  void* mapped = ::mmap(nullptr, sizeof(CrashRecordLayout), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (mapped == MAP_FAILED) fail("cannot map");
  layout_ = static_cast<CrashRecordLayout*>(mapped);
  // A record of another size or version is not read (its layout is unknown): start empty.
  if (fresh || std::memcmp(layout_->magic, kMagic, sizeof(kMagic)) != 0 ||
      layout_->layout_size != sizeof(CrashRecordLayout)) {
    clear();
  }
}

CrashRecordFile::~CrashRecordFile() {
  if (layout_) ::munmap(layout_, sizeof(CrashRecordLayout));
  if (fd_ >= 0) ::close(fd_);
}

void CrashRecordFile::clear() {
  std::memset(static_cast<void*>(layout_), 0, sizeof(CrashRecordLayout));
  std::memcpy(layout_->magic, kMagic, sizeof(kMagic));
  layout_->layout_size = sizeof(CrashRecordLayout);
  // Once per start: the handled crash must not come back after a power cut either. This also
  // leaves every page of the mapping present and writable for the handler.
  ::msync(layout_, sizeof(CrashRecordLayout), MS_SYNC);
}

std::optional<CrashReport> CrashRecordFile::previous_crash() const {
  const CrashRecordLayout& r = *layout_;
  if (!r.crashed) return std::nullopt;
  CrashReport report;
  report.signal = r.signal;
  report.signal_code = r.signal_code;
  report.fault_address = r.fault_address;
  report.unix_ms = r.unix_ms;
  report.pid = r.pid;
  report.on_dispatch_thread = r.on_dispatch_thread != 0;
  report.message_in_flight = r.message_in_flight != 0;
  report.message_key = text_of(r.message_key);
  report.topic = text_of(r.topic);
  report.body = text_of(r.body);
  report.body_size = r.body_size;
  report.account = text_of(r.account);
  report.event_id = text_of(r.event_id);
  report.plugin = text_of(r.plugin);
  report.handler_type = text_of(r.handler_type);
  report.handler_name = text_of(r.handler_name);
  report.route = text_of(r.route);
  report.step = text_of(r.step);
  const std::uint32_t modules = r.module_count < kMaxModules ? r.module_count : kMaxModules;
  const std::uint32_t frames = r.frame_count < kMaxFrames ? r.frame_count : kMaxFrames;
  for (std::uint32_t i = 0; i < frames; ++i) {
    if (r.frames[i].module == kNoModule && r.frames[i].offset == 0) continue;  // the end of the stack
    CrashReport::Frame frame;
    if (r.frames[i].module < modules) frame.module = text_of(r.modules[r.frames[i].module]);
    frame.offset = r.frames[i].offset;
    report.frames.push_back(std::move(frame));
  }
  return report;
}

std::string CrashReport::summary() const {
  std::string out = signal_name(signal);
  if (signal == SIGSEGV || signal == SIGBUS || signal == SIGFPE || signal == SIGILL)
    out += " (address " + hex(fault_address) + ")";
  out += " in process " + std::to_string(pid) + " at " + utc_time(unix_ms);
  if (!on_dispatch_thread) {
    return out + " on a thread other than the dispatch thread (no event is blamed)";
  }
  if (!message_in_flight) return out + " on the dispatch thread between messages";
  if (!plugin.empty()) {
    out += " in plugin " + quoted(plugin) + " handler type " + quoted(handler_type) + " handler " +
           quoted(handler_name);
  } else {
    out += " in host code";
  }
  out += " (account " + quoted(account.empty() ? "?" : account) + ", event " +
         quoted(event_id.empty() ? "?" : event_id);
  if (!route.empty() && !plugin.empty()) out += ", route " + quoted(route) + ", step " + quoted(step);
  out += ", topic " + quoted(topic) + ", message " + message_key + ")";
  return out;
}

std::vector<std::string> CrashReport::backtrace() const {
  const auto modules = std::make_unique<LoadedModule[]>(kMaxModules);
  const std::size_t loaded = list_loaded_modules(modules.get(), kMaxModules);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    std::string line = "#" + std::to_string(i) + " ";
    const std::string where = f.module.empty() ? hex(f.offset) : f.module + "+" + hex(f.offset);
    const LoadedModule* now = nullptr;
    for (std::size_t m = 0; m < loaded && !f.module.empty(); ++m) {
      if (std::string_view(modules[m].path, modules[m].path_size) == f.module) now = &modules[m];
    }
    if (now) {
      // Frames after the first are return addresses: one byte back lands in the call's line.
      const std::uintptr_t address = now->base + f.offset - (i > 0 ? 1 : 0);
      using Pc = boost::stacktrace::frame::native_frame_ptr_t;
      // NOLINTNEXTLINE(performance-no-int-to-ptr): a code address rebuilt from a module base, by design
      const boost::stacktrace::frame frame(reinterpret_cast<Pc>(address));
      std::string name = frame.name();
      line += name.empty() ? "??" : name;
      const std::string file = frame.source_file();
      if (!file.empty()) line += " at " + file + ":" + std::to_string(frame.source_line());
      line += " [" + where + "]";
    } else {
      line += where + (f.module.empty() ? "" : " (module not loaded now: addr2line -f -C -e MODULE OFFSET)");
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace vumi::crash
