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
  ASSERT_TRUE(store_->message_ledger_put(entry("m1", "outbound", "survey1", "ussd:*120*10001#")).has_value());
  ASSERT_TRUE(store_->message_ledger_put(entry("m1", "inbound", "survey2", "longcode:+2782")).has_value());

  auto out = testing::found(store_->message_ledger_get("m1", "outbound"));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->account_key, "acct1");
  EXPECT_EQ(out->conversation_type, "surveys");
  EXPECT_EQ(out->conversation_key, "survey1");
  EXPECT_EQ(out->tag, "ussd:*120*10001#");
  EXPECT_FALSE(out->created_at.empty());
  auto in = testing::found(store_->message_ledger_get("m1", "inbound"));
  ASSERT_TRUE(in);
  EXPECT_EQ(in->conversation_key, "survey2");
  EXPECT_FALSE(testing::found(store_->message_ledger_get("m2", "outbound")));

  // The same message recorded again replaces its entry.
  ASSERT_TRUE(store_->message_ledger_put(entry("m1", "outbound", "survey3", "")).has_value());
  auto replaced = testing::found(store_->message_ledger_get("m1", "outbound"));
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->conversation_key, "survey3");
}

TEST_P(MessageLedger, EntriesPastRetentionArePrunedAsNewOnesArrive) {
  ASSERT_TRUE(store_->message_ledger_put(entry("old", "outbound", "survey1", "")).has_value());
  ASSERT_TRUE(store_->message_ledger_put(entry("recent", "outbound", "survey1", "")).has_value());
  // Age one entry past the retention, as if written 8 days ago.
  const auto eight_days_ago =
      std::chrono::system_clock::now() - std::chrono::hours(kMessageLedgerRetentionHours + 24);
  state_.exec("UPDATE message_ledger SET created_at = '" + iso8601_utc_ms(eight_days_ago) +
              "' WHERE message_id = 'old'");
  // Pruning runs every 1024 puts; write enough to pass one.
  ASSERT_TRUE(store_->begin_batch().has_value());
  for (int i = 0; i < 1024; ++i)
    ASSERT_TRUE(store_->message_ledger_put(entry("n" + std::to_string(i), "outbound", "s", "")).has_value());
  ASSERT_TRUE(store_->commit_batch().has_value());

  EXPECT_FALSE(testing::found(store_->message_ledger_get("old", "outbound")));
  EXPECT_TRUE(testing::found(store_->message_ledger_get("recent", "outbound")));
}

VUMI_STORE_ON_EVERY_BACKEND(MessageLedger);

}  // namespace
}  // namespace vumi::store
