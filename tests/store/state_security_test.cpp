// State holds personal data: folder 0700 and database files 0600 whatever the umask, and one
// daemon per state folder. SQLite only: file modes, the read-only file mode and the folder lock are
// about SQLite's files (PostgreSQL's files belong to its server; its access is the URL's role).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>

#include "store/state_dir_lock.hpp"
#include "store/state_store.hpp"
#include "temp_dir.hpp"

namespace vumi::store {
namespace {

using testing::TempDir;

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

// Sets the umask for one scope (the tests prove the modes do not depend on it).
struct ScopedUmask {
  explicit ScopedUmask(mode_t mask) : previous(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous); }
  mode_t previous;
};

TEST(StateSecurity, FolderAndDatabaseFilesArePrivateWhateverTheUmask) {
  TempDir dir;
  const auto state = dir / "state";
  ScopedUmask open_umask(0);
  {
    auto store = StateStore::open(state);
    auto upserted = store->contact_upsert("acct1", boost::json::object{{"msisdn", "+27831234567"}});
    ASSERT_TRUE(upserted.has_value()) << upserted.error().message;
    // While the store is open the WAL and shared-memory files exist: they must be private too.
    ASSERT_TRUE(std::filesystem::exists(state / "vumi.db-wal"));
    EXPECT_EQ(mode_of(state / "vumi.db-wal"), 0600u);
    EXPECT_EQ(mode_of(state / "vumi.db-shm"), 0600u);
  }
  EXPECT_EQ(mode_of(state), 0700u);
  EXPECT_EQ(mode_of(state / "vumi.db"), 0600u);
}

TEST(StateSecurity, LooseModesLeftByAnOlderVersionAreTightenedAtOpen) {
  TempDir dir;
  const auto state = dir / "state";
  { StateStore::open(state); }
  ASSERT_EQ(::chmod(state.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((state / "vumi.db").c_str(), 0644), 0);
  { StateStore::open(state); }
  EXPECT_EQ(mode_of(state), 0700u);
  EXPECT_EQ(mode_of(state / "vumi.db"), 0600u);
}

TEST(StateSecurity, ReadOnlyInspectionWorksWhileTheLockIsHeld) {
  TempDir dir;
  const auto state = dir / "state";
  StateDirLock lock(state);
  auto writer = StateStore::open(state);
  ASSERT_TRUE(writer->contact_upsert("acct1", boost::json::object{{"msisdn", "+1"}}).has_value());
  auto reader = StateStore::open_read_only(state);
  EXPECT_EQ(reader->contacts("acct1").size(), 1u);
}

TEST(StateSecurity, ASecondLockOnTheSameFolderIsRefusedNamingTheHoldersPid) {
  TempDir dir;
  const auto state = dir / "state";
  ScopedUmask open_umask(0);
  StateDirLock first(state);
  EXPECT_EQ(mode_of(state), 0700u);
  EXPECT_EQ(mode_of(first.file()), 0600u);
  try {
    StateDirLock second(state);
    FAIL() << "a second lock on " << state << " was granted";
  } catch (const StoreError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("in use by another vumi-dispatcher (pid " + std::to_string(::getpid()) + ","),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(state.string()), std::string::npos) << message;
  }
}

TEST(StateSecurity, TheLockIsFreeAgainOnceReleased) {
  TempDir dir;
  { StateDirLock first(dir / "state"); }
  EXPECT_NO_THROW(StateDirLock second(dir / "state"));
}

}  // namespace
}  // namespace vumi::store
