// The message ledger: put, get by message_id and direction, replace, retention pruning.
#include <gtest/gtest.h>

#include "backend_state.hpp"
#include "store/state_store.hpp"
#include "store/store_values.hpp"

namespace vumi::store {
namespace {

using MessageLedger = testing::StoreBackendTest;

MessageLedgerEntry entry(std::string id, std::string direction, std::string conversation_key,
                         std::string tag) {
  MessageLedgerEntry e;
  e.message_id = std::move(id);
  e.direction = std::move(direction);
  e.account_key = "acct1";
  e.conversation_type = "surveys";
  e.conversation_key = std::move(conversation_key);
  e.tag = std::move(tag);
  return e;
}

TEST_P(MessageLedger, KeepsEachDirectionApartAndFindsEntriesById) {
  ASSERT_TRUE(store_->message_ledger_put(entry("m1", "outbound", "survey1", "ussd:*120*10001#")).ok);
  ASSERT_TRUE(store_->message_ledger_put(entry("m1", "inbound", "survey2", "longcode:+2782")).ok);

  StoreStatus status;
  auto out = store_->message_ledger_get("m1", "outbound", status);
  ASSERT_TRUE(status.ok) << status.error;
  ASSERT_TRUE(out);
  EXPECT_EQ(out->account_key, "acct1");
  EXPECT_EQ(out->conversation_type, "surveys");
  EXPECT_EQ(out->conversation_key, "survey1");
  EXPECT_EQ(out->tag, "ussd:*120*10001#");
  EXPECT_FALSE(out->created_at.empty());
  auto in = store_->message_ledger_get("m1", "inbound", status);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->conversation_key, "survey2");
  EXPECT_FALSE(store_->message_ledger_get("m2", "outbound", status));
  EXPECT_TRUE(status.ok);

  // The same message recorded again replaces its entry.
  ASSERT_TRUE(store_->message_ledger_put(entry("m1", "outbound", "survey3", "")).ok);
  EXPECT_EQ(store_->message_ledger_get("m1", "outbound", status)->conversation_key, "survey3");
}

TEST_P(MessageLedger, EntriesPastRetentionArePrunedAsNewOnesArrive) {
  ASSERT_TRUE(store_->message_ledger_put(entry("old", "outbound", "survey1", "")).ok);
  ASSERT_TRUE(store_->message_ledger_put(entry("recent", "outbound", "survey1", "")).ok);
  // Age one entry past the retention, as if written 8 days ago.
  const auto eight_days_ago =
      std::chrono::system_clock::now() - std::chrono::hours(kMessageLedgerRetentionHours + 24);
  state_.exec("UPDATE message_ledger SET created_at = '" + iso8601_utc_ms(eight_days_ago) +
              "' WHERE message_id = 'old'");
  // Pruning runs every 1024 puts; write enough to pass one.
  ASSERT_TRUE(store_->begin_batch().ok);
  for (int i = 0; i < 1024; ++i)
    ASSERT_TRUE(store_->message_ledger_put(entry("n" + std::to_string(i), "outbound", "s", "")).ok);
  ASSERT_TRUE(store_->commit_batch().ok);

  StoreStatus status;
  EXPECT_FALSE(store_->message_ledger_get("old", "outbound", status));
  EXPECT_TRUE(store_->message_ledger_get("recent", "outbound", status));
  EXPECT_TRUE(status.ok) << status.error;
}

VUMI_STORE_ON_EVERY_BACKEND(MessageLedger);

}  // namespace
}  // namespace vumi::store
