// The PostgreSQL store's batches as pipelines: writes nobody waits for share the round trip of the
// next read or of the COMMIT, and a deferred write that fails still rolls the whole batch back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "backend_state.hpp"
#include "store/pg_state_store.hpp"

namespace vumi::store {
namespace {

using ::testing::HasSubstr;

class PgPipelineTest : public testing::StoreBackendTest {
 protected:
  std::uint64_t round_trips() const { return dynamic_cast<const PgStateStore&>(*store_).round_trips(); }

  static MessageLedgerEntry ledger_entry(int n) {
    MessageLedgerEntry entry;
    entry.message_id = "m" + std::to_string(n);
    entry.direction = "outbound";
    entry.account_key = "acct1";
    entry.conversation_type = "survey";
    entry.conversation_key = "survey1";
    return entry;
  }

  // Writes `rows` outbox rows and ledger entries (numbered from first) in one batch; returns the
  // round trips it took.
  std::uint64_t write_batch(int first, int rows) {
    const std::uint64_t before = round_trips();
    EXPECT_TRUE(store_->begin_batch().has_value());
    for (int n = first; n < first + rows; ++n) {
      EXPECT_TRUE(
          testing::value_of(store_->outbox_put("outbound.sms", "body " + std::to_string(n), "acct1")));
      EXPECT_TRUE(store_->message_ledger_put(ledger_entry(n)).has_value());
    }
    const Expected<void> committed = store_->commit_batch();
    EXPECT_TRUE(committed.has_value()) << committed.error().message;
    return round_trips() - before;
  }

  // Makes every insert into table fail on the server (a check the client cannot see coming).
  void refuse_inserts_into(const std::string& table) {
    state_.exec(
        "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'refused by the test trigger'; END$$");
    state_.exec("CREATE TRIGGER refuse BEFORE INSERT ON " + table +
                " FOR EACH ROW EXECUTE FUNCTION refuse_insert()");
  }
};

TEST_P(PgPipelineTest, ABatchsWritesTakeOneRoundTripForTheirIdsAndOneForTheCommit) {
  write_batch(0, 100);  // sizes the outbox id reservation of the next batches
  EXPECT_EQ(write_batch(100, 100), 2u) << "the outbox ids, then the writes with the COMMIT";
  auto rows = store_->outbox_pending();
  ASSERT_EQ(rows.size(), 200u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].body, "body " + std::to_string(i)) << "in the order written";
    if (i > 0) {
      EXPECT_GT(rows[i].id, rows[i - 1].id);
    }
  }
  auto entry = testing::found(store_->message_ledger_get("m199", "outbound"));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->conversation_key, "survey1");
}

TEST_P(PgPipelineTest, AReadInABatchSeesTheDeferredWritesBeforeIt) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(store_->message_ledger_put(ledger_entry(1)).has_value());
  auto entry = testing::found(store_->message_ledger_get("m1", "outbound"));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->account_key, "acct1");
  ASSERT_TRUE(store_->commit_batch().has_value());
}

TEST_P(PgPipelineTest, ADeferredWriteThatFailsRefusesTheNextReadAndRollsTheBatchBack) {
  refuse_inserts_into("message_ledger");
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", boost::json::object{{"n", 1}})));
  EXPECT_TRUE(store_->message_ledger_put(ledger_entry(1)).has_value()) << "sent, not answered yet";
  const Expected<bool> refused = store_->processed_claim("acct1", "k1");
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message,
              HasSubstr("refused, an earlier statement of this batch failed (message ledger "
                        "put of outbound message m1: ERROR:  refused by the test trigger"));
  EXPECT_FALSE(is_transient(refused.error()));
  const Expected<void> commit = store_->commit_batch();
  ASSERT_FALSE(commit.has_value());
  EXPECT_THAT(commit.error().message,
              HasSubstr("commit batch: refused, a statement in it failed (message ledger put"));
  EXPECT_TRUE(store_->inbox("acct1").empty()) << "the write before the failure is rolled back too";
  // The next batch starts clean.
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", boost::json::object{{"n", 2}})));
  ASSERT_TRUE(store_->commit_batch().has_value());
  EXPECT_EQ(store_->inbox("acct1").size(), 1u);
}

TEST_P(PgPipelineTest, ADeferredWriteThatFailsJustBeforeTheCommitKeepsNothing) {
  refuse_inserts_into("dead_letters");
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(testing::value_of(store_->outbox_put("outbound.sms", "hello", "acct1")));
  ASSERT_TRUE(store_->message_ledger_put(ledger_entry(1)).has_value());
  DeadLetter letter;
  letter.reason = "step_failed";
  letter.message = "a sentinel";
  EXPECT_TRUE(store_->dead_letter_put(letter).has_value());
  const Expected<void> commit = store_->commit_batch();
  ASSERT_FALSE(commit.has_value());
  EXPECT_THAT(commit.error().message,
              HasSubstr("(dead letter put (reason step_failed): ERROR:  refused by the test trigger"));
  EXPECT_TRUE(store_->outbox_pending().empty());
  EXPECT_FALSE(testing::found(store_->message_ledger_get("m1", "outbound"))) << "not committed";
}

TEST_P(PgPipelineTest, ALostConnectionWithOnlyDeferredWritesFailsTheCommitAsTransient) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(testing::value_of(store_->outbox_put("outbound.sms", "hello", "acct1")));
  ASSERT_TRUE(store_->message_ledger_put(ledger_entry(1)).has_value());
  state_.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
      "AND pid <> pg_backend_pid()");
  ASSERT_TRUE(store_->message_ledger_put(ledger_entry(2)).has_value())
      << "only sent: the loss is not known yet";
  const Expected<void> commit = store_->commit_batch();
  ASSERT_FALSE(commit.has_value());
  EXPECT_TRUE(is_transient(commit.error())) << commit.error().message;
  // The next batch reconnects and commits.
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(store_->message_ledger_put(ledger_entry(3)).has_value());
  const Expected<void> again = store_->commit_batch();
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(store_->outbox_pending().empty()) << "the lost batch's row is not there";
  EXPECT_FALSE(testing::found(store_->message_ledger_get("m1", "outbound")));
  EXPECT_TRUE(testing::found(store_->message_ledger_get("m3", "outbound")));
}

VUMI_STORE_ON_BACKENDS(PgPipelineTest, std::string("postgresql"));

}  // namespace
}  // namespace vumi::store
