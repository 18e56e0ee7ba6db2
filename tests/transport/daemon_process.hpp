// Test helpers: a temporary folder, a config written into it, and a vumi-dispatcher child process
// whose stderr is collected line by line so tests can wait for what it says.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vumi::testing {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Writes text to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// A child process with stdout+stderr captured through a pipe.
class ChildProcess {
 public:
  // Starts argv[0] with argv (no shell); stdin is /dev/null unless stdin_file is given.
  explicit ChildProcess(std::vector<std::string> argv, std::optional<std::filesystem::path> stdin_file = {});
  ~ChildProcess();  // kills (SIGKILL) and reaps the child if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until a line at index >= *cursor contains needle; returns it and moves *cursor past it.
  std::optional<std::string> wait_for_line(const std::string& needle, std::chrono::milliseconds timeout,
                                           std::size_t* cursor = nullptr);
  // Sends a signal to the child.
  void signal(int signal_number) const;
  // Waits for the child to exit (its output closes, then it is reaped); its exit code, or -signal,
  // or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Everything the child printed so far.
  std::string output() const;
  std::vector<std::string> lines() const;
  // Resident memory of the child in KiB (from /proc), or -1.
  long rss_kib() const;
  int pid() const { return pid_; }

 private:
  void read_output(int fd);

  int pid_ = -1;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::string partial_;
  bool closed_ = false;
  std::thread reader_;
};

// vumi-dispatcher run on a config, with the endpoints it reported once listening.
class Daemon {
 public:
  // Starts `run -c config_file` plus extra args and waits for its "listening:" line.
  Daemon(const std::filesystem::path& config_file, std::vector<std::string> extra_args = {});
  ChildProcess& process() { return process_; }
  bool listening() const { return !ingest.empty(); }
  std::string ingest;
  std::string outbound;

 private:
  ChildProcess process_;
};

// The key=value pairs of the last line containing marker ("status:" or "stopped:").
std::optional<std::string> counter_value(const std::string& line, const std::string& key);

// A config for the tests: ephemeral ports, state in dir, the example plugin; routes is the JSON of
// account "acct1"'s routes array, handlers the JSON of the handlers object.
std::string test_config(const std::filesystem::path& state_dir, const std::string& handlers,
                        const std::string& routes, const std::string& extra_top_level = "");

}  // namespace vumi::testing
