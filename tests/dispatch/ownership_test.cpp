// A cluster member handles only the accounts of the shards it holds (docs/scale-out.md): the rest
// come back as not_owner, with nothing run, stored or sent.
#include <gtest/gtest.h>

#include "common/shard_hash.hpp"
#include "dispatch_fixture.hpp"

namespace vumi::testing_support {
namespace {

// With two shards, acct1 is in shard 1 and acct2 in shard 0 (FNV-1a 64, pinned in shard_hash_test).
static_assert(shard_of("acct1", 2) == 1 && shard_of("acct2", 2) == 0);

// Routes match poll_complete and inbound_message only, so the emitted "seen" events run nothing.
constexpr const char* kTwoAccounts = R"({
  "handlers": { "emit": { "type": "emit_event" } },
  "accounts": {
    "acct1": { "conversations": { "poll1": "vxpolls" }, "tags": ["longcode:1"],
      "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [ { "handler": "emit", "config": { "event_type": "seen" } } ] },
                  { "on": { "event_type": "inbound_message" }, "chain": [ { "handler": "emit", "config": { "event_type": "seen" } } ] } ] },
    "acct2": { "conversations": { "poll2": "vxpolls" }, "tags": ["longcode:2"],
      "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [ { "handler": "emit", "config": { "event_type": "seen" } } ] },
                  { "on": { "event_type": "inbound_message" }, "chain": [ { "handler": "emit", "config": { "event_type": "seen" } } ] } ] } } })";

std::string event_body(const std::string& account, const std::string& conversation, const std::string& id) {
  return R"({"account_key":")" + account + R"(","conversation_key":")" + conversation +
         R"(","conversation_type":"vxpolls","event_type":"poll_complete","event_id":")" + id +
         R"(","event_data":{}})";
}

std::string inbound_body(const std::string& tag, const std::string& id) {
  return R"({"message_id":")" + id +
         R"(","to_addr":"1","from_addr":"+27820000001","content":"hi","transport_name":"sms",)"
         R"("transport_type":"sms","message_version":"20110921","helper_metadata":{"tag":{"tag":["longcode",")" +
         tag + R"("]}}})";
}

class OwnershipTest : public DispatchTest {
 protected:
  void SetUp() override {
    start(kTwoAccounts);
    dispatcher->set_ownership(&ownership);
    ownership.set(1, true);  // acct1's shard only
  }
  dispatch::ShardOwnership ownership{2};
};

TEST_F(OwnershipTest, EventsOfAnotherShardsAccountAreNotOwnedAndLeaveNoTrace) {
  using dispatch::HandleOutcome;
  EXPECT_EQ(dispatcher->handle("event.acct2.vxpolls.poll_complete", event_body("acct2", "poll2", "e2")),
            HandleOutcome::not_owner);
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(dispatcher->counters().not_owner, 1u);
  // Not recorded in the ledger either: once this dispatcher holds the shard, the event runs.
  ownership.set(0, true);
  EXPECT_EQ(dispatcher->handle("event.acct2.vxpolls.poll_complete", event_body("acct2", "poll2", "e2")),
            HandleOutcome::processed);
  EXPECT_EQ(sink.with_prefix("event.acct2.vxpolls.seen").size(), 1u);
}

TEST_F(OwnershipTest, EventsOfAHeldShardRunAndAreCountedForIt) {
  EXPECT_EQ(dispatcher->handle("event.acct1.vxpolls.poll_complete", event_body("acct1", "poll1", "e1")),
            dispatch::HandleOutcome::processed);
  EXPECT_EQ(sink.with_prefix("event.acct1.vxpolls.seen").size(), 1u);
  EXPECT_EQ(dispatcher->counters().handled_by_shard.at(1), 1u);
  EXPECT_EQ(dispatcher->counters().handled_by_shard.at(0), 0u);
}

TEST_F(OwnershipTest, InboundMessagesGoToTheOwnerOfTheirTagsAccount) {
  using dispatch::HandleOutcome;
  EXPECT_EQ(dispatcher->handle("inbound.sms", inbound_body("2", "m2")), HandleOutcome::not_owner);
  EXPECT_EQ(dispatcher->handle("inbound.sms", inbound_body("1", "m1")), HandleOutcome::processed);
  EXPECT_EQ(sink.with_prefix("event.acct1.transport.seen").size(), 1u);
  EXPECT_TRUE(sink.with_prefix("event.acct2").empty());
}

TEST_F(OwnershipTest, WorkOfNoAccountBelongsToTheHolderOfShardZero) {
  using dispatch::HandleOutcome;
  // A tag no account owns, and a forwarded command: neither has an account.
  EXPECT_EQ(dispatcher->handle("inbound.sms", inbound_body("9", "m9")), HandleOutcome::not_owner);
  EXPECT_EQ(dispatcher->handle("command.worker1", R"({"command":"go"})"), HandleOutcome::not_owner);
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_TRUE(sink.sent.empty());
  ownership.set(0, true);
  EXPECT_EQ(dispatcher->handle("inbound.sms", inbound_body("9", "m9")), HandleOutcome::rejected);
  EXPECT_EQ(dead_letters().size(), 1u);  // unowned_tag, recorded once, by shard 0's holder
}

}  // namespace
}  // namespace vumi::testing_support
