// The crash record: a small file in the state dir mapped MAP_SHARED, written only by the crash
// handler. A process crash leaves its pages in the page cache, so the next start reads what was
// in flight without any write or fsync on the data path (a power cut may lose it; see
// docs/operations.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crash/message_key.hpp"

namespace vumi::crash {

template <std::size_t N>
struct FixedText {
  std::uint32_t size;  // bytes used; readers clamp it to N
  char data[N];
  static constexpr std::size_t capacity = N;
};

struct RecordedFrame {
  std::uint32_t module;  // index into CrashRecordLayout::modules; kNoModule when unknown
  std::uint64_t offset;  // address - module load base (what addr2line takes); the address if no module
};

constexpr std::uint32_t kNoModule = 0xffffffff;
constexpr std::size_t kMaxFrames = 64;
constexpr std::size_t kMaxModules = 64;
constexpr std::size_t kMaxBodyBytes = 64 * 1024 + 1;  // one more than a dead letter keeps: it sees the cut

// Plain data only: the handler writes it with memcpy, the next start reads it field by field.
struct CrashRecordLayout {
  char magic[8];  // "VUMICR01"
  std::uint32_t layout_size;
  std::uint32_t crashed;  // set first by the handler
  std::int32_t signal;
  std::int32_t signal_code;
  std::uint64_t fault_address;
  std::int64_t unix_ms;
  std::int32_t pid;
  std::int32_t tid;
  std::uint32_t on_dispatch_thread;
  std::uint32_t message_in_flight;
  std::uint64_t body_size;  // of the whole ingest body; body holds its first kMaxBodyBytes
  FixedText<kMaxKeyBytes> message_key;
  FixedText<256> topic;
  FixedText<160> account;
  FixedText<160> event_id;
  FixedText<160> plugin;
  FixedText<160> handler_type;
  FixedText<160> handler_name;
  FixedText<512> route;
  FixedText<512> step;
  std::uint32_t frame_count;
  RecordedFrame frames[kMaxFrames];
  std::uint32_t module_count;
  FixedText<512> modules[kMaxModules];
  FixedText<kMaxBodyBytes> body;
};

// A crash read back from the record by the next start.
struct CrashReport {
  struct Frame {
    std::string module;  // path; empty when the address was in no known module
    std::uint64_t offset = 0;
  };
  int signal = 0;
  int signal_code = 0;
  std::uint64_t fault_address = 0;
  std::int64_t unix_ms = 0;
  int pid = 0;
  bool on_dispatch_thread = false;
  bool message_in_flight = false;
  std::string message_key;  // empty: nothing to quarantine
  std::string topic;
  std::string body;  // the first kMaxBodyBytes of it
  std::uint64_t body_size = 0;
  std::string account;
  std::string event_id;
  std::string plugin;  // empty: not in a plugin call
  std::string handler_type;
  std::string handler_name;
  std::string route;
  std::string step;
  std::vector<Frame> frames;

  // One line: the signal, where (plugin, handler, account, event, route, step) and when.
  std::string summary() const;
  // One line per frame, symbolised in this process where its module is loaded again
  // ("#3 vumi::dispatch::ChainRunner::run(...) at chain_runner.cpp:62 [vumi-dispatcher+0x4f2a1]").
  std::vector<std::string> backtrace() const;
};

class CrashRecordFile {
 public:
  // Opens or creates <state_dir>/crash-record and maps it; throws std::runtime_error naming the
  // file and the reason.
  explicit CrashRecordFile(const std::filesystem::path& state_dir);
  ~CrashRecordFile();
  CrashRecordFile(const CrashRecordFile&) = delete;
  CrashRecordFile& operator=(const CrashRecordFile&) = delete;

  // The crash the record holds, if the previous process crashed.
  std::optional<CrashReport> previous_crash() const;
  // Empties the record and writes it to disk (once at start, after the previous crash is handled).
  void clear();

  CrashRecordLayout& layout() { return *layout_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
  CrashRecordLayout* layout_ = nullptr;
};

// Signal name for a number ("SIGSEGV"); "signal N" for others. Async-signal-safe.
const char* signal_name(int signal_number) noexcept;

}  // namespace vumi::crash
