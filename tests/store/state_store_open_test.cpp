// Opening the SQLite state database: creation, reopening, migration, and every way opening can fail
// (SQLite only: these are about its file; pg_state_store_test.cpp has PostgreSQL's).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "store/schema_migrations.hpp"
#include "store/sqlite_connection.hpp"
#include "store/state_store.hpp"
#include "store/store_factory.hpp"
#include "temp_dir.hpp"

namespace vumi::store {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// Reads a single text value through a separate connection, to look at the file as sqlite3 would.
std::string query_text(const std::filesystem::path& db, const std::string& sql) {
  SqliteConnection connection(db, SQLITE_OPEN_READONLY);
  Statement statement(connection, sql);
  EXPECT_EQ(statement.step(), SQLITE_ROW) << sql;
  return statement.column_text(0);
}

std::set<std::string> table_names(const std::filesystem::path& db) {
  SqliteConnection connection(db, SQLITE_OPEN_READONLY);
  Statement statement(connection, "SELECT name FROM sqlite_schema WHERE type = 'table'");
  std::set<std::string> names;
  while (statement.step() == SQLITE_ROW) names.insert(statement.column_text(0));
  return names;
}

std::string open_error(const std::filesystem::path& state_dir, bool read_only = false) {
  try {
    if (read_only) {
      StateStore::open_read_only(state_dir);
    } else {
      StateStore::open(state_dir);
    }
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(opened without error)";
}

TEST(StateStoreOpen, CreatesFolderAndDatabaseWithLatestSchemaInWalMode) {
  TempDir tmp;
  const auto state_dir = tmp / "nested/state";
  auto store = StateStore::open(state_dir);
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  ASSERT_TRUE(std::filesystem::exists(state_dir / "vumi.db"));

  const auto db = state_dir / "vumi.db";
  EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(db, "PRAGMA user_version"), std::to_string(latest_schema_version()));
  auto tables = table_names(db);
  EXPECT_TRUE(tables.count("contacts"));
  EXPECT_TRUE(tables.count("inbox"));
  EXPECT_TRUE(tables.count("dead_letters"));
  EXPECT_TRUE(tables.count("message_ledger"));
}

// The factory the daemon and the commands use: the config's backend name, never SQLite by name.
TEST(StateStoreFactory, OpensTheSqliteBackendAndSeesItsFile) {
  TempDir tmp;
  const auto state_dir = tmp / "state";
  const StateConfig state{.backend = "sqlite", .dir = state_dir, .url = {}};
  EXPECT_FALSE(state_store_exists(state));
  EXPECT_THAT([&] { open_state_store(state, Access::read_only); },
              ::testing::ThrowsMessage<StoreError>(HasSubstr("no state at")));
  auto store = open_state_store(state, Access::read_write);
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  EXPECT_TRUE(state_store_exists(state));
  store.reset();
  EXPECT_EQ(open_state_store(state, Access::read_only)->schema_version(), latest_schema_version());
}

TEST(StateStoreFactory, AnUnknownBackendIsRefusedByName) {
  TempDir tmp;
  const StateConfig state{.backend = "postgres", .dir = tmp / "state", .url = {}};
  EXPECT_THAT([&] { open_state_store(state, Access::read_write); },
              ::testing::ThrowsMessage<StoreError>(
                  ::testing::StrEq("unknown state backend \"postgres\" (known: sqlite, postgresql)")));
  EXPECT_FALSE(state_store_exists(state));
  EXPECT_FALSE(std::filesystem::exists(tmp / "state"));
}

TEST(StateStoreOpen, ReopenKeepsDataAndSchemaVersion) {
  TempDir tmp;
  std::string key;
  {
    auto store = StateStore::open(tmp.path());
    auto upserted = store->contact_upsert("acct1", {{"msisdn", "+27821234567"}, {"name", "Thandi"}});
    ASSERT_TRUE(upserted.has_value()) << upserted.error().message;
    key = upserted->contact.contact_key;
  }
  auto store = StateStore::open(tmp.path());
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  auto again = store->contact_get("acct1", key);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  ASSERT_TRUE(*again);
  EXPECT_EQ((*again)->name, "Thandi");
  EXPECT_EQ(store->contacts("").size(), 1u);
}

TEST(StateStoreOpen, MigratesAnEmptyFile) {
  TempDir tmp;
  tmp.write("vumi.db", "");
  auto store = StateStore::open(tmp.path());
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  EXPECT_TRUE(table_names(tmp / "vumi.db").count("contacts"));
}

TEST(StateStoreOpen, MigrationsAreConsecutiveFromOne) {
  int expected = 1;
  for (const Migration& step : schema_migrations()) {
    EXPECT_EQ(step.version, expected++);
    EXPECT_NE(std::string(step.summary), "");
  }
  EXPECT_EQ(latest_schema_version(), expected - 1);
}

TEST(StateStoreOpen, RefusesADatabaseNewerThanThisBuild) {
  TempDir tmp;
  StateStore::open(tmp.path());
  {
    SqliteConnection connection(tmp / "vumi.db", SQLITE_OPEN_READWRITE);
    connection.exec("PRAGMA user_version = 99");
  }
  auto message = open_error(tmp.path());
  EXPECT_THAT(message, HasSubstr("schema version 99"));
  EXPECT_THAT(message,
              HasSubstr("newer than this build supports (" + std::to_string(latest_schema_version()) + ")"));
  EXPECT_THAT(open_error(tmp.path(), true), HasSubstr("schema version 99"));
}

TEST(StateStoreOpen, FolderThatCannotBeCreatedIsAStoreErrorNamingIt) {
  TempDir tmp;
  tmp.write("file", "not a folder");
  const auto state_dir = tmp / "file/sub";  // below a regular file: fails even for root
  auto message = open_error(state_dir);
  EXPECT_THAT(message, HasSubstr("cannot create state folder " + state_dir.string()));
  EXPECT_THAT(message, HasSubstr("Not a directory"));
}

TEST(StateStoreOpen, StateDirThatIsAFileIsAStoreError) {
  TempDir tmp;
  const auto file = tmp.write("plain", "x");
  auto message = open_error(file);
  EXPECT_THAT(message, HasSubstr(file.string()));
}

TEST(StateStoreOpen, UnwritableFolderIsAStoreError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write anywhere; covered by the folder-below-a-file test";
  TempDir tmp;
  const auto state_dir = tmp / "locked";
  std::filesystem::create_directories(state_dir);
  ::chmod(state_dir.c_str(), 0500);
  auto message = open_error(state_dir);
  ::chmod(state_dir.c_str(), 0700);
  EXPECT_THAT(message, HasSubstr("state folder " + state_dir.string() + " is not writable"));
}

TEST(StateStoreOpen, GarbageFileIsAStoreErrorNamingThePathAndSqlitesReason) {
  TempDir tmp;
  std::string garbage(4096, '\x5a');
  garbage.replace(0, 20, "this is not sqlite!!");
  const auto db = tmp.write("vumi.db", garbage);
  auto message = open_error(tmp.path());
  EXPECT_THAT(message, HasSubstr(db.string()));
  EXPECT_THAT(message, HasSubstr("file is not a database"));
  EXPECT_THAT(open_error(tmp.path(), true), HasSubstr("file is not a database"));
}

TEST(StateStoreOpen, ReadOnlyOpenOfMissingDatabaseSaysTheDaemonHasNotRun) {
  TempDir tmp;
  auto message = open_error(tmp / "never", true);
  EXPECT_EQ(message, "no state at " + (tmp / "never/vumi.db").string() +
                         " (the daemon has not run with this state_dir)");
  EXPECT_FALSE(std::filesystem::exists(tmp / "never")) << "read-only open must not create anything";
}

TEST(StateStoreOpen, ReadOnlyOpenOfEmptyDatabaseSaysThereIsNoSchema) {
  TempDir tmp;
  tmp.write("vumi.db", "");
  EXPECT_THAT(open_error(tmp.path(), true), HasSubstr("has no schema"));
}

TEST(StateStoreOpen, ReadOnlyStoreReadsButDoesNotWrite) {
  TempDir tmp;
  {
    auto store = StateStore::open(tmp.path());
    auto put = store->inbox_put("acct1", boost::json::object{{"content", "hi"}});
    ASSERT_TRUE(put.has_value()) << put.error().message;
  }
  auto reader = StateStore::open_read_only(tmp.path());
  EXPECT_EQ(reader->schema_version(), latest_schema_version());
  EXPECT_EQ(reader->inbox("").size(), 1u);
  auto put = reader->inbox_put("acct1", boost::json::object{});
  ASSERT_FALSE(put.has_value());
  EXPECT_THAT(put.error().message, HasSubstr("readonly"));
}

TEST(StateStoreOpen, ReaderSeesWritesOfARunningDaemon) {
  TempDir tmp;
  auto writer = StateStore::open(tmp.path());
  auto reader = StateStore::open_read_only(tmp.path());
  EXPECT_TRUE(reader->dead_letters("").empty());
  DeadLetter letter;
  letter.reason = "unowned_tag";
  letter.message = "no account owns pool:x";
  EXPECT_TRUE(writer->dead_letter_put(letter).has_value());
  EXPECT_EQ(reader->dead_letters("").size(), 1u);
}

}  // namespace
}  // namespace vumi::store
