// DispatchPool (docs/workers.md) in-process: a batch spread over workers by account keeps each
// account's order, a message whose account the topic does not name runs between the others, and
// the workers' counters add up.
#include "dispatch/dispatch_pool.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "dispatch_fixture.hpp"

namespace vumi::testing_support {
namespace {

constexpr int kAccounts = 8;

// Every account's ping runs [noop, emit pong {n}]; the emitted pong is published on outbound.
std::string pool_config() {
  std::string accounts;
  for (int a = 0; a < kAccounts; ++a) {
    accounts += (a ? "," : "") + std::string(R"("a)") + std::to_string(a) +
                R"(": { "conversations": { "conv1": "survey" }, "routes": [ { "on": { "event_type": "ping" },
                  "chain": [ { "handler": "noop" }, { "handler": "emit", "config": { "event_type": "pong",
                  "event_data": { "n": "{{/event/event_data/n}}" } } } ] } ] })";
  }
  return R"({ "handlers": { "noop": { "type": "noop" }, "emit": { "type": "emit_event" } }, "accounts": {)" +
         accounts + "} }";
}

class DispatchPoolTest : public DispatchTest {};

TEST_F(DispatchPoolTest, EachAccountKeepsItsOrderAndACommandRunsBetweenTheOthers) {
  start(pool_config());
  dispatch::DispatchPool pool(runtime, *store, sink, 2);
  ASSERT_EQ(pool.workers(), 2u);
  constexpr int kPerAccount = 200;
  std::vector<std::string> topics, bodies;
  for (int n = 0; n < kPerAccount; ++n) {
    for (int a = 0; a < kAccounts; ++a) {
      const std::string account = "a" + std::to_string(a);
      topics.push_back("event." + account + ".survey.ping");
      bodies.push_back(R"({"account_key":")" + account +
                       R"(","conversation_key":"conv1","conversation_type":"survey","event_type":"ping",)"
                       R"("event_data":{"n":)" +
                       std::to_string(n) + "}}");
    }
    if (n == kPerAccount / 2) {  // halfway: a command, which names no account
      topics.emplace_back("command.worker1");
      bodies.emplace_back(R"({"command":"halfway"})");
    }
  }
  std::vector<dispatch::DispatchPool::Job> jobs;
  for (std::size_t i = 0; i < topics.size(); ++i) jobs.push_back({topics[i], bodies[i], {}, "test"});
  ASSERT_TRUE(store->begin_batch().has_value());
  pool.handle_all(jobs);
  pool.end_batch();
  ASSERT_TRUE(store->commit_batch().has_value());

  for (const auto& job : jobs) EXPECT_EQ(job.outcome, dispatch::HandleOutcome::processed) << job.topic;
  std::map<std::string, std::vector<std::int64_t>> pongs;  // per account, in the order sent
  std::size_t before_command = 0;
  bool command_seen = false;
  for (const SentMessage& m : sink.sent) {
    if (m.topic == "command.worker1") {
      command_seen = true;
      continue;
    }
    const auto& body = m.body.as_object();
    const std::int64_t n = body.at("event_data").as_object().at("n").as_int64();
    pongs[std::string(body.at("account_key").as_string())].push_back(n);
    // Each send names its own account to the shared sink (the outbox row's account), not the
    // account another worker was running at the time.
    EXPECT_EQ(m.account, body.at("account_key").as_string()) << m.topic << " n=" << n;
    // Everything read before the command was sent before it, nothing read after it.
    EXPECT_EQ(n <= kPerAccount / 2, !command_seen) << m.topic << " n=" << n;
    before_command += command_seen ? 0 : 1;
  }
  EXPECT_TRUE(command_seen);
  EXPECT_EQ(before_command, static_cast<std::size_t>((kPerAccount / 2 + 1) * kAccounts));
  ASSERT_EQ(pongs.size(), static_cast<std::size_t>(kAccounts));
  for (const auto& [account, ns] : pongs) {
    ASSERT_EQ(ns.size(), static_cast<std::size_t>(kPerAccount)) << account;
    for (int n = 0; n < kPerAccount; ++n) ASSERT_EQ(ns[static_cast<std::size_t>(n)], n) << account;
  }
  // The counters are the sum of both workers'.
  EXPECT_EQ(pool.counters().received, topics.size());
  EXPECT_EQ(pool.counters().emitted, static_cast<std::uint64_t>(kPerAccount * kAccounts));
  EXPECT_EQ(pool.counters().commands_forwarded, 1u);
}

TEST(WorkerThreads, RunReturnsOnlyWhenEveryWorkerRanItsTask) {
  dispatch::WorkerThreads threads(3);
  ASSERT_EQ(threads.size(), 3u);
  std::vector<int> runs(3, 0);  // each slot written by its worker only
  for (int round = 0; round < 1000; ++round) threads.run([&](std::size_t w) { ++runs[w]; });
  EXPECT_EQ(runs, (std::vector<int>{1000, 1000, 1000}));
}

TEST(WorkerThreads, EachWorkerThreadHasAnAlternateSignalStack) {
  dispatch::WorkerThreads threads(3);
  std::vector<int> enabled(3, -1);  // each slot written by its worker only
  threads.run([&](std::size_t w) {
    stack_t current{};
    if (w > 0 && ::sigaltstack(nullptr, &current) == 0) enabled[w] = (current.ss_flags & SS_DISABLE) == 0;
  });
  EXPECT_EQ(enabled[1], 1) << "so the crash handler can report a stack overflow there";
  EXPECT_EQ(enabled[2], 1);
}

}  // namespace
}  // namespace vumi::testing_support
