#include "daemon_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace vumi::testing {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("vumi-transport-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                               ec);
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& text) const {
  auto file = path_ / name;
  std::ofstream(file) << text;
  return file;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::optional<std::filesystem::path> stdin_file) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string in = stdin_file ? stdin_file->string() : "/dev/null";
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  reader_ = std::thread([this, fd = fds[0]] { read_output(fd); });
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::read_output(int fd) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n <= 0) {
      if (!partial_.empty()) lines_.push_back(std::move(partial_));
      closed_ = true;
      changed_.notify_all();
      break;
    }
    partial_.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
      lines_.push_back(partial_.substr(start, nl - start));
    partial_.erase(0, start);
    changed_.notify_all();
  }
  ::close(fd);
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& needle,
                                                       std::chrono::milliseconds timeout,
                                                       std::size_t* cursor) {
  std::size_t from = cursor ? *cursor : 0;
  std::unique_lock lock(mutex_);
  std::optional<std::string> found;
  changed_.wait_for(lock, timeout, [&] {
    for (; from < lines_.size(); ++from) {
      if (lines_[from].find(needle) != std::string::npos) {
        found = lines_[from];
        ++from;
        return true;
      }
    }
    return closed_;
  });
  if (cursor && found) *cursor = from;
  return found;
}

void ChildProcess::signal(int signal_number) const {
  ::kill(pid_, signal_number);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [this] { return closed_; })) return std::nullopt;
  }
  // The output closed: the process is exiting; reaping it takes at most moments.
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return exit_code_;
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out + partial_;
}

std::vector<std::string> ChildProcess::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

long ChildProcess::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

Daemon::Daemon(const std::filesystem::path& config_file, std::vector<std::string> extra_args)
    : process_([&] {
        std::vector<std::string> argv{VUMI_DISPATCHER_EXE, "run", "-c", config_file.string()};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        return argv;
      }()) {
  auto line = process_.wait_for_line("listening: ingest ", std::chrono::seconds(30));
  if (!line) return;
  const auto a = line->find("listening: ingest ") + 18;
  const auto comma = line->find(", outbound ", a);
  ingest = line->substr(a, comma - a);
  auto rest = line->substr(comma + 11);
  outbound = rest.substr(0, rest.find_first_of(" \"}"));
}

std::optional<std::string> counter_value(const std::string& line, const std::string& key) {
  const std::string needle = key + "=";
  std::size_t at = 0;
  while ((at = line.find(needle, at)) != std::string::npos) {
    if (at == 0 || line[at - 1] == ' ' || line[at - 1] == '(') {
      const auto start = at + needle.size();
      const auto end = line.find_first_of(" )\"", start);
      return line.substr(start, end - start);
    }
    at += needle.size();
  }
  return std::nullopt;
}

std::string test_config(const std::filesystem::path& state_dir, const std::string& handlers,
                        const std::string& routes, const std::string& extra_top_level) {
  std::ostringstream out;
  out << "{\n"
      << R"(  "ingest": { "bind": "tcp://127.0.0.1:0" },)"
      << "\n"
      << R"(  "outbound": { "bind": "tcp://127.0.0.1:*" },)"
      << "\n"
      << R"(  "state_dir": ")" << state_dir.string() << "\",\n"
      << R"(  "plugin_path": [")" << VUMI_PLUGIN_DIR << "/example.so\"],\n"
      << extra_top_level << R"(  "handlers": )" << handlers << ",\n"
      << R"(  "accounts": { "acct1": { "conversations": { "conv1": "survey" }, "tags": ["longcode:1"], )"
      << R"("routes": )" << routes << " } }\n}\n";
  return out.str();
}

}  // namespace vumi::testing
