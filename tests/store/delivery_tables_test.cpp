// The delivery tables: the outbox (rows written in a batch, listed until removed), the
// processed-message ledger (a second claim is a duplicate; pruning by age), a batch with a failed
// write that never commits in part, and the commit fault hook.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include "backend_state.hpp"
#include "store/state_store.hpp"

namespace vumi::store {
namespace {

using OutboxTable = testing::StoreBackendTest;
using ProcessedMessages = testing::StoreBackendTest;
using Batch = testing::StoreBackendTest;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_P(OutboxTable, RowsOfACommittedBatchAreListedInOrderUntilRemoved) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  auto first = testing::value_of(store_->outbox_put("outbound.sms", R"({"n":1})", "acct1"));
  auto second = testing::value_of(store_->outbox_put("outbound.sms", R"({"n":2})", ""));
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(store_->commit_batch().has_value());

  auto rows = store_->outbox_pending();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, *first);
  EXPECT_EQ(rows[0].topic, "outbound.sms");
  EXPECT_EQ(rows[1].body, R"({"n":2})");

  ASSERT_TRUE(store_->outbox_remove({*first}).has_value());
  rows = store_->outbox_pending();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, *second);
}

// Removals come as runs of consecutive ids (SQLite deletes a run as one range): exactly the ids
// given go, whatever their order and gaps, and an id already gone is no error.
TEST_P(OutboxTable, RemovingRowsRemovesExactlyTheIdsGiven) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  std::vector<std::int64_t> ids;
  for (int n = 0; n < 8; ++n) {
    auto id = testing::value_of(store_->outbox_put("outbound.sms", "{\"n\":" + std::to_string(n) + "}", ""));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  ASSERT_TRUE(store_->commit_batch().has_value());

  // Rows 0-2 and 4 (two runs, one of them out of order), 6 twice, and an id that was never written.
  ASSERT_TRUE(
      store_->outbox_remove({ids[4], ids[0], ids[1], ids[2], ids[6], ids[6], ids[7] + 100}).has_value());
  std::vector<std::int64_t> left;
  for (const OutboxRow& row : store_->outbox_pending()) left.push_back(row.id);
  EXPECT_EQ(left, (std::vector<std::int64_t>{ids[3], ids[5], ids[7]}));

  ASSERT_TRUE(store_->outbox_remove({ids[3], ids[5], ids[7]}).has_value());
  EXPECT_TRUE(store_->outbox_pending().empty());
}

TEST_P(OutboxTable, RowsOfARolledBackBatchNeverExisted) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(store_->outbox_put("outbound.sms", "{}", "").has_value());
  ASSERT_TRUE(store_->rollback_batch().has_value());
  EXPECT_TRUE(store_->outbox_pending().empty());
}

TEST_P(ProcessedMessages, ASecondClaimOfTheSameIdInTheSameAccountIsADuplicate) {
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(true));
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(false));
  // Per account: the same id in another account is another message.
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct2", "m1")), std::optional<bool>(true));
}

TEST_P(ProcessedMessages, AClaimRolledBackWithItsBatchIsForgotten) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(true));
  ASSERT_TRUE(store_->rollback_batch().has_value());
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(true));
}

TEST_P(ProcessedMessages, PruneForgetsEntriesOlderThanTheCutoffOnly) {
  ASSERT_TRUE(store_->processed_claim("acct1", "m1").has_value());
  EXPECT_EQ(testing::value_of(store_->processed_prune(unix_now() - 3600)), std::optional<std::int64_t>(0));
  EXPECT_EQ(testing::value_of(store_->processed_prune(unix_now() + 10)), std::optional<std::int64_t>(1));
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(true));
}

TEST_P(Batch, CommitFailsWhileTheFaultFileExistsAndNothingOfTheBatchIsKept) {
  const auto fault = state_.tmp() / "fault";
  ::setenv("VUMI_STORE_FAULT_FILE", fault.c_str(), 1);
  auto store = state_.open();
  ::unsetenv("VUMI_STORE_FAULT_FILE");
  std::ofstream(fault) << "full\n";

  ASSERT_TRUE(store->begin_batch().has_value());
  ASSERT_TRUE(
      store->contact_upsert("acct1", boost::json::parse(R"({"msisdn":"+1"})").as_object()).has_value());
  ASSERT_TRUE(store->outbox_put("outbound.sms", "{}", "").has_value());
  const Expected<void> commit = store->commit_batch();
  ASSERT_FALSE(commit.has_value());
  EXPECT_NE(commit.error().message.find("disk is full (injected"), std::string::npos)
      << commit.error().message;
  EXPECT_FALSE(is_transient(commit.error()));
  EXPECT_TRUE(store->contacts("acct1").empty());
  EXPECT_TRUE(store->outbox_pending().empty());

  std::filesystem::remove(fault);  // the store recovers
  ASSERT_TRUE(store->begin_batch().has_value());
  ASSERT_TRUE(
      store->contact_upsert("acct1", boost::json::parse(R"({"msisdn":"+1"})").as_object()).has_value());
  EXPECT_TRUE(store->commit_batch().has_value());
  EXPECT_EQ(store->contacts("acct1").size(), 1u);
}

TEST_P(Batch, ABatchWithAFailedWriteRefusesLaterWritesAndItsCommit) {
  // Another connection takes the dead_letters table away, so the next dead letter write fails.
  state_.exec("DROP TABLE dead_letters");
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(true));
  DeadLetter letter;
  letter.reason = "step_failed";
  letter.input = "{}";
  const Expected<void> put = store_->dead_letter_put(letter);
  // SQLite answers at once; PostgreSQL only sends the write, and the next read reports it.
  if (GetParam() == "sqlite") {
    EXPECT_FALSE(put.has_value());
  }
  // Later writes are refused, so none of them can commit on its own either.
  const Expected<bool> later = store_->processed_claim("acct1", "m2");
  ASSERT_FALSE(later.has_value());
  EXPECT_NE(later.error().message.find("of this batch failed"), std::string::npos) << later.error().message;
  const Expected<void> commit = store_->commit_batch();
  ASSERT_FALSE(commit.has_value());
  EXPECT_NE(commit.error().message.find("in it failed"), std::string::npos) << commit.error().message;
  // The claim made before the failure was rolled back with the batch.
  EXPECT_EQ(testing::value_of(store_->processed_claim("acct1", "m1")), std::optional<bool>(true));
}

VUMI_STORE_ON_EVERY_BACKEND(OutboxTable);
VUMI_STORE_ON_EVERY_BACKEND(ProcessedMessages);
VUMI_STORE_ON_EVERY_BACKEND(Batch);

}  // namespace
}  // namespace vumi::store
