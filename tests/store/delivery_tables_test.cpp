// The delivery tables: the outbox (rows written in a batch, listed until removed), the
// processed-message ledger (a second claim is a duplicate; pruning by age), a batch with a failed
// write that never commits in part, and the commit fault hook.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include "store/state_store.hpp"
#include "temp_dir.hpp"

namespace vumi::store {
namespace {

using testing::TempDir;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(OutboxTable, RowsOfACommittedBatchAreListedInOrderUntilRemoved) {
  TempDir dir;
  auto store = StateStore::open(dir.path());
  ASSERT_TRUE(store->begin_batch().ok);
  StoreStatus status;
  auto first = store->outbox_put("outbound.sms", R"({"n":1})", status);
  auto second = store->outbox_put("outbound.sms", R"({"n":2})", status);
  ASSERT_TRUE(first && second) << status.error;
  ASSERT_TRUE(store->commit_batch().ok);

  auto rows = store->outbox_pending();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, *first);
  EXPECT_EQ(rows[0].topic, "outbound.sms");
  EXPECT_EQ(rows[1].body, R"({"n":2})");

  ASSERT_TRUE(store->outbox_remove({*first}).ok);
  rows = store->outbox_pending();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, *second);
}

TEST(OutboxTable, RowsOfARolledBackBatchNeverExisted) {
  TempDir dir;
  auto store = StateStore::open(dir.path());
  ASSERT_TRUE(store->begin_batch().ok);
  StoreStatus status;
  ASSERT_TRUE(store->outbox_put("outbound.sms", "{}", status));
  ASSERT_TRUE(store->rollback_batch().ok);
  EXPECT_TRUE(store->outbox_pending().empty());
}

TEST(ProcessedMessages, ASecondClaimOfTheSameIdInTheSameAccountIsADuplicate) {
  TempDir dir;
  auto store = StateStore::open(dir.path());
  StoreStatus status;
  EXPECT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(true));
  EXPECT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(false));
  // Per account: the same id in another account is another message.
  EXPECT_EQ(store->processed_claim("acct2", "m1", status), std::optional<bool>(true));
  EXPECT_TRUE(status.ok) << status.error;
}

TEST(ProcessedMessages, AClaimRolledBackWithItsBatchIsForgotten) {
  TempDir dir;
  auto store = StateStore::open(dir.path());
  StoreStatus status;
  ASSERT_TRUE(store->begin_batch().ok);
  EXPECT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(true));
  ASSERT_TRUE(store->rollback_batch().ok);
  EXPECT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(true));
}

TEST(ProcessedMessages, PruneForgetsEntriesOlderThanTheCutoffOnly) {
  TempDir dir;
  auto store = StateStore::open(dir.path());
  StoreStatus status;
  ASSERT_TRUE(store->processed_claim("acct1", "m1", status));
  EXPECT_EQ(store->processed_prune(unix_now() - 3600, status), std::optional<std::int64_t>(0));
  EXPECT_EQ(store->processed_prune(unix_now() + 10, status), std::optional<std::int64_t>(1));
  EXPECT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(true));
}

TEST(Batch, CommitFailsWhileTheFaultFileExistsAndNothingOfTheBatchIsKept) {
  TempDir dir;
  const auto fault = dir.path() / "fault";
  ::setenv("VUMI_STORE_FAULT_FILE", fault.c_str(), 1);
  auto store = StateStore::open(dir.path() / "state");
  ::unsetenv("VUMI_STORE_FAULT_FILE");
  std::ofstream(fault) << "full\n";

  ASSERT_TRUE(store->begin_batch().ok);
  bool created = false;
  StoreStatus status;
  ASSERT_TRUE(
      store->contact_upsert("acct1", boost::json::parse(R"({"msisdn":"+1"})").as_object(), created, status));
  ASSERT_TRUE(store->outbox_put("outbound.sms", "{}", status));
  const StoreStatus commit = store->commit_batch();
  EXPECT_FALSE(commit.ok);
  EXPECT_NE(commit.error.find("disk is full (injected"), std::string::npos) << commit.error;
  EXPECT_TRUE(store->contacts("acct1").empty());
  EXPECT_TRUE(store->outbox_pending().empty());

  std::filesystem::remove(fault);  // the store recovers
  ASSERT_TRUE(store->begin_batch().ok);
  ASSERT_TRUE(
      store->contact_upsert("acct1", boost::json::parse(R"({"msisdn":"+1"})").as_object(), created, status));
  EXPECT_TRUE(store->commit_batch().ok);
  EXPECT_EQ(store->contacts("acct1").size(), 1u);
}

TEST(Batch, ABatchWithAFailedWriteRefusesLaterWritesAndItsCommit) {
  TempDir dir;
  auto store = StateStore::open(dir.path());
  {
    // Another connection takes the dead_letters table away, so the next dead letter write fails.
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "vumi.db").c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "DROP TABLE dead_letters", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
  }
  ASSERT_TRUE(store->begin_batch().ok);
  StoreStatus status;
  ASSERT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(true));
  DeadLetter letter;
  letter.reason = "step_failed";
  letter.input = "{}";
  EXPECT_FALSE(store->dead_letter_put(letter).ok);
  // Later writes are refused, so none of them can commit on its own either.
  StoreStatus later;
  EXPECT_FALSE(store->processed_claim("acct1", "m2", later));
  EXPECT_NE(later.error.find("an earlier write of this batch failed"), std::string::npos) << later.error;
  const StoreStatus commit = store->commit_batch();
  EXPECT_FALSE(commit.ok);
  EXPECT_NE(commit.error.find("a write in it failed"), std::string::npos) << commit.error;
  // The claim made before the failure was rolled back with the batch.
  EXPECT_EQ(store->processed_claim("acct1", "m1", status), std::optional<bool>(true));
}

}  // namespace
}  // namespace vumi::store
