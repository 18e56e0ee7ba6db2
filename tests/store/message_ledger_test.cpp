// The message ledger: put, get by message_id and direction, replace, retention pruning.
#include <gtest/gtest.h>

#include "store/sqlite_connection.hpp"
#include "store/state_store.hpp"
#include "temp_dir.hpp"

namespace vumi::store {
namespace {

using testing::TempDir;

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

TEST(MessageLedger, KeepsEachDirectionApartAndFindsEntriesById) {
  TempDir tmp;
  auto store = StateStore::open(tmp.path());
  ASSERT_TRUE(store->message_ledger_put(entry("m1", "outbound", "survey1", "ussd:*120*10001#")).ok);
  ASSERT_TRUE(store->message_ledger_put(entry("m1", "inbound", "survey2", "longcode:+2782")).ok);

  StoreStatus status;
  auto out = store->message_ledger_get("m1", "outbound", status);
  ASSERT_TRUE(status.ok) << status.error;
  ASSERT_TRUE(out);
  EXPECT_EQ(out->account_key, "acct1");
  EXPECT_EQ(out->conversation_type, "surveys");
  EXPECT_EQ(out->conversation_key, "survey1");
  EXPECT_EQ(out->tag, "ussd:*120*10001#");
  EXPECT_FALSE(out->created_at.empty());
  auto in = store->message_ledger_get("m1", "inbound", status);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->conversation_key, "survey2");
  EXPECT_FALSE(store->message_ledger_get("m2", "outbound", status));
  EXPECT_TRUE(status.ok);

  // The same message recorded again replaces its entry.
  ASSERT_TRUE(store->message_ledger_put(entry("m1", "outbound", "survey3", "")).ok);
  EXPECT_EQ(store->message_ledger_get("m1", "outbound", status)->conversation_key, "survey3");
}

TEST(MessageLedger, EntriesPastRetentionArePrunedAsNewOnesArrive) {
  TempDir tmp;
  auto store = StateStore::open(tmp.path());
  ASSERT_TRUE(store->message_ledger_put(entry("old", "outbound", "survey1", "")).ok);
  ASSERT_TRUE(store->message_ledger_put(entry("recent", "outbound", "survey1", "")).ok);
  {
    // Age one entry past the retention, as if written 8 days ago.
    SqliteConnection connection(tmp.path() / "vumi.db", SQLITE_OPEN_READWRITE);
    connection.exec("UPDATE message_ledger SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-" +
                    std::to_string(kMessageLedgerRetentionHours + 24) + " hours') WHERE message_id = 'old'");
  }
  // Pruning runs every 1024 puts; write enough to pass one.
  ASSERT_TRUE(store->begin_batch().ok);
  for (int i = 0; i < 1024; ++i)
    ASSERT_TRUE(store->message_ledger_put(entry("n" + std::to_string(i), "outbound", "s", "")).ok);
  ASSERT_TRUE(store->commit_batch().ok);

  StoreStatus status;
  EXPECT_FALSE(store->message_ledger_get("old", "outbound", status));
  EXPECT_TRUE(store->message_ledger_get("recent", "outbound", status));
  EXPECT_TRUE(status.ok) << status.error;
}

}  // namespace
}  // namespace vumi::store
