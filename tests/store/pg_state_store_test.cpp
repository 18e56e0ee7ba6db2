// What only the PostgreSQL store has: its migrations beside SQLite's, opening a database (empty,
// newer, unreachable), URLs without passwords in messages, and a lost connection.
#include "store/pg_state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "backend_state.hpp"
#include "store/pg_schema.hpp"
#include "store/store_values.hpp"

namespace vumi::store {
namespace {

using ::testing::HasSubstr;

std::string open_error(const StateConfig& state, Access access) {
  try {
    open_state_store(state, access);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(opened without error)";
}

class PgStoreTest : public testing::StoreBackendTest {};

TEST(PgSchema, MigrationsMatchSqlitesStepByStep) {
  ASSERT_EQ(pg_schema_migrations().size(), schema_migrations().size());
  for (std::size_t i = 0; i < schema_migrations().size(); ++i) {
    EXPECT_EQ(pg_schema_migrations()[i].version, schema_migrations()[i].version);
    EXPECT_STREQ(pg_schema_migrations()[i].summary, schema_migrations()[i].summary);
  }
}

TEST(RedactedUrl, HidesPasswordsInEveryForm) {
  EXPECT_EQ(redacted_url("postgresql://vumi:s3cret@db.example:5432/vumi"),
            "postgresql://vumi:***@db.example:5432/vumi");
  EXPECT_EQ(redacted_url("postgresql://vumi@127.0.0.1/vumi"), "postgresql://vumi@127.0.0.1/vumi");
  EXPECT_EQ(redacted_url("postgresql://h/db?user=u&password=pw&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require");
  EXPECT_EQ(redacted_url("host=h password=pw dbname=d"), "host=h password=*** dbname=d");
}

TEST_P(PgStoreTest, OpenRecordsTheLatestSchemaVersionAndReopenKeepsData) {
  EXPECT_EQ(store_->schema_version(), latest_schema_version());
  ASSERT_TRUE(testing::value_of(store_->contact_upsert("acct1", {{"msisdn", "+1"}})));
  store_.reset();
  auto again = state_.open();
  EXPECT_EQ(again->schema_version(), latest_schema_version());
  EXPECT_EQ(again->contacts("acct1").size(), 1u);
  EXPECT_EQ(state_.open_read_only()->contacts("acct1").size(), 1u);
}

TEST_P(PgStoreTest, ReadOnlyStoresCannotWrite) {
  auto reader = state_.open_read_only();
  const Expected<std::int64_t> put = reader->inbox_put("acct1", boost::json::object{{"n", 1}});
  ASSERT_FALSE(put.has_value());
  EXPECT_THAT(put.error().message, HasSubstr("read-only transaction"));
  EXPECT_FALSE(is_transient(put.error()));
}

TEST_P(PgStoreTest, ADatabaseNewerThanThisBuildIsRefused) {
  store_.reset();
  state_.exec("UPDATE vumi_schema_version SET version = " + std::to_string(latest_schema_version() + 1));
  EXPECT_THAT(open_error(state_.config(), Access::read_write),
              HasSubstr("has schema version " + std::to_string(latest_schema_version() + 1) +
                        ", newer than this build supports"));
  EXPECT_THAT(open_error(state_.config(), Access::read_only), HasSubstr("(use a newer vumi-dispatcher)"));
}

TEST_P(PgStoreTest, ALostConnectionFailsTheBatchAsTransientAndTheNextWriteReconnects) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", boost::json::object{{"n", 1}})));
  // The server ends the store's session, as a restart or a network cut would.
  state_.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
      "AND pid <> pg_backend_pid()");
  const Expected<std::int64_t> lost = store_->inbox_put("acct1", boost::json::object{{"n", 2}});
  ASSERT_FALSE(lost.has_value());
  EXPECT_TRUE(is_transient(lost.error())) << lost.error().message;
  const Expected<void> commit = store_->commit_batch();
  ASSERT_FALSE(commit.has_value());
  EXPECT_TRUE(is_transient(commit.error())) << commit.error().message;
  // Outside a batch the store reconnects (and prepares its statements again) by itself.
  ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", boost::json::object{{"n", 3}})));
  auto inbox = store_->inbox("acct1");
  ASSERT_EQ(inbox.size(), 1u) << "the lost batch's write is not there";
  EXPECT_EQ(inbox[0].message.at("n"), 3);
}

VUMI_STORE_ON_BACKENDS(PgStoreTest, std::string("postgresql"));

TEST(PgStoreOpen, AnEmptyDatabaseIsNoStateForInspection) {
  testing::BackendState state("postgresql");
  if (!state.skip_reason().empty()) GTEST_SKIP() << state.skip_reason();
  EXPECT_THAT(open_error(state.config(), Access::read_only),
              HasSubstr("(the database has no schema: the daemon has not run with this url)"));
}

TEST(PgStoreOpen, AnUnreachableServerIsAStoreErrorWithoutThePassword) {
  // Port 1 on loopback: nothing listens there.
  const StateConfig state{
      .backend = "postgresql", .dir = {}, .url = "postgresql://vumi:s3cret@127.0.0.1:1/vumi"};
  const std::string error = open_error(state, Access::read_write);
  EXPECT_THAT(error, HasSubstr("cannot connect to PostgreSQL postgresql://vumi:***@127.0.0.1:1/vumi: "));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("s3cret")));
}

TEST(PgStoreOpen, TheFactoryNeedsAUrl) {
  const StateConfig state{.backend = "postgresql", .dir = {}, .url = {}};
  EXPECT_EQ(open_error(state, Access::read_write), "state backend \"postgresql\" needs a url (state.url)");
}

}  // namespace
}  // namespace vumi::store
