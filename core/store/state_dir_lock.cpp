#include "store/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "store/state_store.hpp"

namespace vumi::store {

namespace {

constexpr const char* kLockFileName = "vumi.lock";
constexpr mode_t kPrivateDirMode = 0700;
constexpr mode_t kPrivateFileMode = 0600;

std::string errno_text(int error) {
  return std::strerror(error);
}

// The PID the lock holder wrote, or "unknown" when the file has none yet.
std::string holder_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? std::string("unknown") : text;
}

}  // namespace

void secure_state_dir(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) throw StoreError("cannot create state folder " + state_dir.string() + ": " + ec.message());
  struct stat st {};
  if (::stat(state_dir.c_str(), &st) != 0)
    throw StoreError("cannot read state folder " + state_dir.string() + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) throw StoreError("state folder " + state_dir.string() + " is not a directory");
  if ((st.st_mode & 07777) != kPrivateDirMode && ::chmod(state_dir.c_str(), kPrivateDirMode) != 0)
    throw StoreError("cannot make state folder " + state_dir.string() +
                     " private (chmod 0700): " + errno_text(errno));
}

void secure_state_file(const std::filesystem::path& file, bool create) {
  // O_NOFOLLOW: a symlink planted in the state folder must not redirect the chmod.
  const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0);
  const int fd = ::open(file.c_str(), flags, kPrivateFileMode);
  if (fd < 0 && !create && errno == ENOENT) return;
  if (fd < 0) throw StoreError("cannot open state file " + file.string() + ": " + errno_text(errno));
  const int rc = ::fchmod(fd, kPrivateFileMode);
  const int error = errno;
  ::close(fd);
  if (rc != 0)
    throw StoreError("cannot make state file " + file.string() +
                     " private (chmod 0600): " + errno_text(error));
}

StateDirLock::StateDirLock(const std::filesystem::path& state_dir) : file_(state_dir / kLockFileName) {
  secure_state_dir(state_dir);
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
  if (fd_ < 0) throw StoreError("cannot open lock file " + file_.string() + ": " + errno_text(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string pid = holder_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      throw StoreError("state folder " + state_dir.string() + " is in use by another vumi-dispatcher (pid " +
                       pid + ", lock " + file_.string() + "); stop it or give this one its own state_dir");
    throw StoreError("cannot lock " + file_.string() + ": " + errno_text(error));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw StoreError("cannot write this process's pid into " + file_.string() + ": " + errno_text(error));
  }
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace vumi::store
