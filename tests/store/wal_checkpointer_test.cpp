// WAL checkpoints off the writer: the thread checkpoints once the WAL is long enough, the writer
// only past the hard limit, and the WAL restarts (stays bounded) either way.
#include "store/wal_checkpointer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "store/sqlite_connection.hpp"
#include "temp_dir.hpp"

namespace vumi::store {
namespace {

using namespace std::chrono_literals;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  WalCheckpointerTest() : writer_(dir_ / "test.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    writer_.exec("PRAGMA journal_mode = WAL");
    writer_.exec("PRAGMA synchronous = NORMAL");
    writer_.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
  }

  // One commit of about one page (4 KiB) of new data.
  void commit_a_page() {
    Statement insert(writer_, "INSERT INTO rows (payload) VALUES (?1)");
    insert.bind_text(1, std::string(3000, 'x'));
    ASSERT_EQ(insert.step(), SQLITE_DONE) << writer_.errmsg();
  }

  std::int64_t rows() { return writer_.query_int("SELECT count(*) FROM rows"); }

  testing::TempDir dir_;
  SqliteConnection writer_;
};

TEST_F(WalCheckpointerTest, TheThreadCheckpointsAndTheWalRestartsWithoutTheWriterCheckpointing) {
  WalCheckpointer checkpointer(writer_, "test database",
                               {.checkpoint_at_pages = 8, .writer_checkpoint_at_pages = 1000});
  // Commits until a commit finds the WAL restarted (short again) after a thread checkpoint. A
  // checkpoint copies only what was committed when it began; the WAL restarts at the first commit
  // after a complete one, so each commit waits for the checkpoint it asked for (bounded).
  bool restarted = false;
  int commits = 0;
  while (!restarted && commits < 200) {
    const std::uint64_t before = checkpointer.thread_checkpoints();
    ASSERT_NO_FATAL_FAILURE(commit_a_page());
    ++commits;
    restarted = before > 0 && checkpointer.last_wal_pages() < 8;
    const auto deadline = std::chrono::steady_clock::now() + 100ms;
    while (checkpointer.last_wal_pages() >= 8 && checkpointer.thread_checkpoints() == before &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(restarted) << "after " << commits << " commits, the WAL is " << checkpointer.last_wal_pages()
                         << " pages; " << checkpointer.thread_checkpoints() << " thread checkpoint(s)";
  EXPECT_GE(checkpointer.thread_checkpoints(), 1u);
  EXPECT_EQ(checkpointer.writer_checkpoints(), 0u);
  EXPECT_EQ(rows(), commits);
}

TEST(WalCheckpointerLimits, TheThreadIsAskedPerGrowthAndTenTimesAsOftenNearTheWritersLimit) {
  const WalCheckpointer::Limits limits{.checkpoint_at_pages = 1000, .writer_checkpoint_at_pages = 16000};
  EXPECT_FALSE(limits.thread_asked(999, 0));
  EXPECT_TRUE(limits.thread_asked(1000, 0));
  EXPECT_FALSE(limits.thread_asked(1999, 1000));  // not after every commit past the mark
  EXPECT_TRUE(limits.thread_asked(2003, 1000));
  EXPECT_FALSE(limits.thread_asked(14999, 14000));
  // Within the last 1000 pages before 16,000: every 100 pages.
  EXPECT_FALSE(limits.thread_asked(15099, 15000));
  EXPECT_TRUE(limits.thread_asked(15100, 15000));
  EXPECT_TRUE(limits.thread_asked(15900, 15800));
  // A restarted WAL (asked at 0 again) starts over.
  EXPECT_FALSE(limits.thread_asked(30, 0));
}

TEST_F(WalCheckpointerTest, TheWriterCheckpointsPastTheHardLimitSoTheWalStaysBounded) {
  // The thread is never asked (its threshold is out of reach): only the hard limit bounds the WAL.
  WalCheckpointer checkpointer(writer_, "test database",
                               {.checkpoint_at_pages = 1'000'000, .writer_checkpoint_at_pages = 16});
  int longest = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_NO_FATAL_FAILURE(commit_a_page());
    longest = std::max(longest, checkpointer.last_wal_pages());
  }
  EXPECT_GE(checkpointer.writer_checkpoints(), 3u);
  EXPECT_EQ(checkpointer.thread_checkpoints(), 0u);
  // The limit, plus what one commit adds after the restart (a page of data and its b-tree pages).
  EXPECT_LT(longest, 16 + 4);
  EXPECT_EQ(rows(), 100);
}

TEST_F(WalCheckpointerTest, ADifferentConnectionSeesEveryCommitAfterTheCheckpointerStops) {
  {
    WalCheckpointer checkpointer(writer_, "test database",
                                 {.checkpoint_at_pages = 4, .writer_checkpoint_at_pages = 64});
    for (int i = 0; i < 50; ++i) ASSERT_NO_FATAL_FAILURE(commit_a_page());
  }                                          // stops the thread, even with a checkpoint wanted
  ASSERT_NO_FATAL_FAILURE(commit_a_page());  // SQLite's own checkpoints again
  SqliteConnection reader(dir_ / "test.db", SQLITE_OPEN_READONLY);
  EXPECT_EQ(reader.query_int("SELECT count(*) FROM rows"), 51);
  Statement check(reader, "PRAGMA integrity_check");
  ASSERT_EQ(check.step(), SQLITE_ROW);
  EXPECT_EQ(check.column_text(0), "ok");
}

}  // namespace
}  // namespace vumi::store
