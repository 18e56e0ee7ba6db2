// Replay: a step that failed because its config was wrong succeeds once the config is fixed (SIGHUP)
// and the dead letter is replayed with `vumi-dispatcher dead-letters replay`, exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include "daemon_process.hpp"
#include "store/state_store.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Daemon;
using testing::TempDir;

std::string sms_config(const TempDir& dir, const std::string& to_addr_template) {
  std::string cfg = testing::test_config(
      dir.path() / "state",
      R"({"sms": {"type": "send_sms", "options": {"transport_name": "sms_transport"}}})",
      R"([{"on": {"event_type": "survey_completed"}, "chain": [{"handler": "sms", "config": {"to_addr": ")" +
          to_addr_template + R"(", "content": "Thanks"}}]},
          {"on": {"event_type": "ping"}, "chain": [{"handler": "sms", "config": {"to_addr": "+27000000000",
                                                                                  "content": "sentinel"}}]}])");
  const std::string example = "/example.so";
  cfg.replace(cfg.find(example), example.size(), "/send_sms.so");
  return cfg;
}

const std::string kCompleted =
    R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
    R"("event_type":"survey_completed","event_data":{"from_addr":"+27831234567"}})";
const std::string kPing =
    R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey","event_type":"ping","event_data":{}})";

TEST(ReplayDaemon, FailedStepSucceedsAfterTheConfigIsFixedAndTheDeadLetterReplayedExactlyOnce) {
  TempDir dir;
  // Misconfigured: the event has no event_data.phone.
  const auto config = dir.write("config.json", sms_config(dir, "{{/event/event_data/phone}}"));
  Daemon daemon(config);
  ASSERT_TRUE(daemon.listening()) << daemon.process().output();
  zmq::context_t context(1);
  transport::TopicSubscriber sub(context, daemon.outbound, {"outbound."});
  std::size_t cursor = 0;
  ASSERT_TRUE(daemon.process().wait_for_line("outbound: subscribe \"outbound.\"", 10s, &cursor));
  transport::WorkerPublisher pub(context, daemon.ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  ASSERT_TRUE(pub.send("event.acct1.survey.survey_completed", kCompleted));
  ASSERT_TRUE(daemon.process().wait_for_line("dead letter: step_failed", 10s, &cursor));

  // Fix the config and reload.
  dir.write("config.json", sms_config(dir, "{{/event/event_data/from_addr}}"));
  daemon.process().signal(SIGHUP);
  ASSERT_TRUE(daemon.process().wait_for_line("reload: config from", 10s, &cursor))
      << daemon.process().output();

  ChildProcess dry({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--reason",
                    "step_failed", "--dry-run"});
  ASSERT_EQ(dry.wait_exit(30s), 0) << dry.output();
  EXPECT_NE(dry.output().find("1 dead letter(s) would be replayed (dry run)"), std::string::npos)
      << dry.output();

  ChildProcess replay({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--reason",
                       "step_failed", "--connect", daemon.ingest});
  ASSERT_EQ(replay.wait_exit(30s), 0) << replay.output();
  EXPECT_NE(replay.output().find("1 dead letter(s) replayed"), std::string::npos) << replay.output();
  auto sms = sub.receive(15s);
  ASSERT_TRUE(sms) << daemon.process().output();
  auto body = boost::json::parse(sms->body);
  EXPECT_EQ(body.at("to_addr"), "+27831234567");
  EXPECT_EQ(body.at("content"), "Thanks");

  // Replaying again finds nothing: the letter is marked.
  ChildProcess again({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--reason",
                      "step_failed", "--connect", daemon.ingest});
  ASSERT_EQ(again.wait_exit(30s), 0) << again.output();
  EXPECT_NE(again.output().find("no dead letters to replay"), std::string::npos) << again.output();
  // A sentinel after it: a second SMS for the event would have arrived first.
  ASSERT_TRUE(pub.send("event.acct1.survey.ping", kPing));
  auto next = sub.receive(10s);
  ASSERT_TRUE(next);
  EXPECT_EQ(boost::json::parse(next->body).at("content"), "sentinel");

  daemon.process().signal(SIGTERM);
  ASSERT_EQ(daemon.process().wait_exit(30s), 0);
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto letters = store->dead_letters("");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "step_failed");
  EXPECT_FALSE(letters[0].replayed_at.empty());
}

}  // namespace
}  // namespace vumi
