// The daemon as a child process for the benchmarks: `vumi-dispatcher run -c CONFIG`, its stdout and
// stderr in a log file.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace bench_support {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The daemon as a child process, its output in a file.
class DaemonChild {
 public:
  DaemonChild(const fs::path& exe, const fs::path& config, const fs::path& log) : log_(log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args{exe.string(), "run", "-c", config.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + exe.string());
    posix_spawn_file_actions_destroy(&actions);
  }
  ~DaemonChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The first log line containing needle, waiting up to timeout for it to appear.
  std::optional<std::string> wait_for(const std::string& needle, std::chrono::seconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
      std::ifstream in(log_);
      for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) return line;
      std::this_thread::sleep_for(20ms);  // polling a file the child writes; bounded by timeout
    }
    return std::nullopt;
  }
  int stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
};

}  // namespace bench_support
