#include "store/wal_checkpointer.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "store/sqlite_connection.hpp"

namespace vumi::store {

namespace {

// The WAL file, opened read-only to sync it (any descriptor of a file syncs all of it).
class WalFile {
 public:
  explicit WalFile(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  WalFile(const WalFile&) = delete;
  WalFile& operator=(const WalFile&) = delete;
  ~WalFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  void sync() const {
    if (fd_ >= 0) ::fdatasync(fd_);  // best effort: SQLite's checkpoint syncs it again anyway
  }

 private:
  int fd_;
};

}  // namespace

// The thread's own connection, ready before the thread starts: opening it reads the schema,
// and while it reads it holds a snapshot that keeps the writer's WAL from restarting.
struct WalCheckpointer::Session {
  explicit Session(const std::filesystem::path& file)
      : connection(file, SQLITE_OPEN_READWRITE), wal(file.string() + "-wal") {
    // PASSIVE: copies what no reader still needs, without waiting for (or blocking) the writer;
    // the rest waits for the next one. The first commit after a complete one restarts the WAL.
    // (A statement, not sqlite3_wal_checkpoint_v2: preparing it reads the schema, which is what
    // opens the WAL on a fresh connection; before that a checkpoint does nothing.)
    checkpoint = Statement(connection, "PRAGMA wal_checkpoint(PASSIVE)");
  }

  SqliteConnection connection;
  Statement checkpoint;
  WalFile wal;
};

WalCheckpointer::WalCheckpointer(SqliteConnection& writer, std::string what, Limits limits)
    : writer_(writer),
      what_(std::move(what)),
      limits_(limits),
      session_(std::make_unique<Session>(writer.file())) {  // throws StoreError naming the file
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer_.handle(), &WalCheckpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wanted_.notify_one();
  thread_.join();
  sqlite3_wal_autocheckpoint(writer_.handle(), limits_.checkpoint_at_pages);
}

bool WalCheckpointer::Limits::thread_asked(int wal_pages, int asked_at_pages) const {
  // Once per checkpoint_at_pages of growth, as SQLite would; not after every commit past it,
  // which under load would keep the thread copying (and syncing) back to back. Within the last
  // checkpoint_at_pages before the writer's own checkpoint, ten times as often: what the writer
  // then syncs is only what was written since the thread's last sync.
  const bool near_the_limit = wal_pages + checkpoint_at_pages >= writer_checkpoint_at_pages;
  const int growth = near_the_limit ? std::max(1, checkpoint_at_pages / 10) : checkpoint_at_pages;
  return wal_pages >= asked_at_pages + growth;
}

// Called by SQLite on the writer's thread after each commit, with the WAL's length in pages.
int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int wal_pages) {
  auto& checkpointer = *static_cast<WalCheckpointer*>(self);
  checkpointer.last_wal_pages_.store(wal_pages, std::memory_order_relaxed);
  if (wal_pages >= checkpointer.limits_.writer_checkpoint_at_pages) {
    // No checkpoint completed between two commits for this long (under steady load, or the thread
    // is stuck): the writer checkpoints, as SQLite would. The thread has copied most of it.
    ++checkpointer.writer_checkpoints_;
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (wal_pages < checkpointer.asked_at_pages_) checkpointer.asked_at_pages_ = 0;  // the WAL restarted
  if (checkpointer.limits_.thread_asked(wal_pages, checkpointer.asked_at_pages_)) {
    checkpointer.asked_at_pages_ = wal_pages;
    {
      std::lock_guard lock(checkpointer.mutex_);
      checkpointer.checkpoint_wanted_ = true;
    }
    checkpointer.wanted_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  Session& session = *session_;
  const std::string file = writer_.file().string();
  std::unique_lock lock(mutex_);
  while (true) {
    wanted_.wait(lock, [this] { return stopping_ || checkpoint_wanted_; });
    if (stopping_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    // The checkpoint's first step is syncing the WAL; doing it here first, through a descriptor
    // of our own, leaves little for the writer's own checkpoint to sync should it need one.
    session.wal.sync();
    if (session.checkpoint.step() == SQLITE_ROW) {
      ++thread_checkpoints_;
    } else if (session.connection.errcode() != SQLITE_BUSY) {
      spdlog::warn("{} {}: checkpoint failed: {}; the WAL grows until one succeeds", what_, file,
                   session.connection.errmsg());
    }
    session.checkpoint.reset();
    lock.lock();
  }
}

}  // namespace vumi::store
