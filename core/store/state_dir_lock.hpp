// One daemon per state_dir: an exclusive flock on <state_dir>/vumi.lock, held for the process's life.
#pragma once

#include <filesystem>
#include <string>

namespace vumi::store {

class StateDirLock {
 public:
  // Creates state_dir if needed (0700), then takes the lock and writes this process's PID into the
  // lock file. Throws StoreError naming the folder and, when another process holds the lock, its PID.
  explicit StateDirLock(const std::filesystem::path& state_dir);
  ~StateDirLock();  // releases the lock (the file stays; a stale file is harmless)
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

// Creates state_dir (and its parents) if missing and makes it 0700 whatever the umask, so only the
// daemon's user can read the contacts and messages in it. Throws StoreError with the reason.
void secure_state_dir(const std::filesystem::path& state_dir);

// Makes file 0600 (creating it empty first when create is true; a missing file is left missing
// otherwise). SQLite gives the -wal and -shm files it creates the database file's mode, so a 0600
// database keeps its journal private too. Throws StoreError with the reason.
void secure_state_file(const std::filesystem::path& file, bool create);

}  // namespace vumi::store
