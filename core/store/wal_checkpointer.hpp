// Runs a SQLite database's WAL checkpoints on a thread and connection of its own, so no commit on
// the writer's connection waits for one. A checkpoint copies the WAL into the database and syncs
// both: tens of milliseconds on a busy disk, which SQLite would otherwise spend inside whichever
// commit crosses 1000 WAL pages (on the dispatch loop, for vumi.db).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace vumi::store {

class SqliteConnection;

class WalCheckpointer {
 public:
  struct Limits {
    // The thread checkpoints each time the WAL has grown by this many pages (SQLite's default
    // automatic checkpoint is at 1000), and ten times as often just before the writer's limit.
    int checkpoint_at_pages = 1000;
    // Past this length the writer checkpoints itself after its commit, as SQLite would: the WAL
    // stays bounded even when the thread cannot keep up with the writes (or is stuck).
    int writer_checkpoint_at_pages = 16000;

    // Whether a commit leaving the WAL wal_pages long asks the thread for a checkpoint, when it
    // was last asked at asked_at_pages (0 after a restart).
    bool thread_asked(int wal_pages, int asked_at_pages) const;
  };

  // Takes over writer's automatic checkpoints (its WAL hook). writer must be in WAL mode and must
  // outlive this object. what names the database in log lines ("state database"). Throws
  // StoreError when the thread's own connection to the file cannot be opened.
  WalCheckpointer(SqliteConnection& writer, std::string what, Limits limits);
  WalCheckpointer(SqliteConnection& writer, std::string what)
      : WalCheckpointer(writer, std::move(what), Limits{}) {}
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  // Stops the thread (a checkpoint under way finishes) and hands writer back to SQLite's
  // automatic checkpoints.
  ~WalCheckpointer();

  std::uint64_t thread_checkpoints() const { return thread_checkpoints_.load(); }
  std::uint64_t writer_checkpoints() const { return writer_checkpoints_.load(); }
  int last_wal_pages() const { return last_wal_pages_.load(); }  // the WAL's length after the last commit

 private:
  struct Session;  // the thread's connection

  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();

  SqliteConnection& writer_;
  const std::string what_;
  const Limits limits_;
  std::atomic<std::uint64_t> thread_checkpoints_{0};
  std::atomic<std::uint64_t> writer_checkpoints_{0};
  std::atomic<int> last_wal_pages_{0};
  int asked_at_pages_ = 0;  // the WAL's length when the thread was last asked (writer's thread only)
  std::mutex mutex_;
  std::condition_variable wanted_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  std::unique_ptr<Session> session_;
  std::thread thread_;  // last: starts after, and is joined before, everything it uses
};

}  // namespace vumi::store
