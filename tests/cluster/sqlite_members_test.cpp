// Two cluster members, each with its own SQLite state and one of two shards (no leases: docs/scale-out.md):
// PUB/SUB events reach only their account's owner (subscriptions), and reliable publishers are
// answered not_owner by the other member and move the account on, each event handled once, in order.
#include <gtest/gtest.h>

#include <set>

#include "cluster_fixture.hpp"
#include "common/shard_hash.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kAccounts = 20;
constexpr int kPerAccount = 50;

class SqliteMembers : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::uint32_t shard = 0; shard < 2; ++shard) {
      MemberSpec spec;
      spec.name = "d" + std::to_string(shard);
      spec.shards = 2;
      spec.owned = {shard};
      spec.state_json = R"({"backend": "sqlite", "dir": ")" + (dir.path() / spec.name).string() + "\"}";
      members.push_back(std::make_unique<Member>(dir, spec, kAccounts));
      members.back()->start();
      ASSERT_TRUE(members.back()->wait_holding(shard, 30s)) << members.back()->process().output();
    }
    listener = std::make_unique<transport::TopicSubscriber>(context, members[0]->outbound,
                                                            std::vector<std::string>{"outbound.sms"});
    listener->socket().connect(members[1]->outbound);
  }

  // Receives SMS until every event's arrived or 60 s passed (bounded).
  SmsLog receive_all() {
    SmsLog log;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (log.distinct_events() < kAccounts * kPerAccount && std::chrono::steady_clock::now() < deadline) {
      if (auto message = listener->receive(500ms)) log.add(message->body);
    }
    // A sentinel round: anything sent twice would have arrived by now, behind the last one.
    for (int i = 0; i < 20; ++i) {
      if (auto message = listener->receive(50ms)) log.add(message->body);
    }
    return log;
  }

  void expect_each_event_once_in_order(const SmsLog& log) {
    EXPECT_EQ(log.received, static_cast<std::size_t>(kAccounts * kPerAccount));
    for (const auto& [id, count] : log.message_ids) EXPECT_EQ(count, 1) << id;
    std::vector<int> expected(kPerAccount);
    for (int seq = 0; seq < kPerAccount; ++seq) expected[seq] = seq;
    ASSERT_EQ(log.seqs_by_account.size(), static_cast<std::size_t>(kAccounts));
    for (const auto& [account, seqs] : log.seqs_by_account) EXPECT_EQ(seqs, expected) << account;
  }

  TempDir dir;
  zmq::context_t context{1};
  std::vector<std::unique_ptr<Member>> members;
  std::unique_ptr<transport::TopicSubscriber> listener;
};

TEST_F(SqliteMembers, PubSubEventsReachOnlyTheOwnerOfTheirAccount) {
  transport::WorkerPublisher publisher(context, members[0]->ingest);
  publisher.connect(members[1]->ingest);
  std::vector<std::string> topics;
  for (int account = 0; account < kAccounts; ++account)
    topics.push_back("event.account-" + std::to_string(account) + ".vxpolls.poll_complete");
  ASSERT_TRUE(publisher.wait_for_subscriptions(topics, 30s));
  for (int seq = 0; seq < kPerAccount; ++seq) {
    for (int account = 0; account < kAccounts; ++account)
      ASSERT_TRUE(publisher.send(topics[account], cluster_event(account, seq)));
  }
  expect_each_event_once_in_order(receive_all());
  // Each member received only its own accounts' events: nothing to skip.
  for (auto& member : members) {
    const std::string stopped = member->stop();
    EXPECT_EQ(counter_value(stopped, "not_owner"), "0") << stopped;
  }
}

TEST_F(SqliteMembers, ReliablePublishersMoveAnAccountOnWhenAnsweredNotOwner) {
  // The endpoints in the other order: the publisher's first guess for every account is wrong.
  transport::ReliablePublisher publisher(
      context, std::vector<std::string>{members[1]->reliable, members[0]->reliable});
  transport::ReliableOptions options;
  options.deadline = 60s;
  const auto result = publisher.publish(cluster_messages(kAccounts, kPerAccount, "p"), options);
  EXPECT_EQ(result.ok, static_cast<std::size_t>(kAccounts * kPerAccount));
  EXPECT_GE(result.not_owner, static_cast<std::size_t>(kAccounts));
  expect_each_event_once_in_order(receive_all());
  std::uint64_t not_owner = 0;
  for (auto& member : members) {
    const std::string stopped = member->stop();
    not_owner += std::stoull(counter_value(stopped, "not_owner").value_or("0"));
  }
  EXPECT_EQ(not_owner, result.not_owner);
  publisher.close();
}

}  // namespace
}  // namespace vumi::testing
