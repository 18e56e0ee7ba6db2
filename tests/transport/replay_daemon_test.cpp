// Replay: a step that failed because its config was wrong succeeds once the config is fixed (SIGHUP)
// and the dead letter is replayed with `vumi-dispatcher dead-letters replay`, exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include "daemon_link.hpp"
#include "store/state_store.hpp"
#include "transport/reliable_publisher.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::kCompleted;
using testing::kPing;
using testing::TempDir;

std::string sms_config(const TempDir& dir, const std::string& to_addr_template,
                       const std::string& ingest_extra = "") {
  std::string cfg = testing::test_config(
      dir.path() / "state",
      R"({"sms": {"type": "send_sms", "options": {"transport_name": "sms_transport"}}})",
      R"([{"on": {"event_type": "survey_completed"}, "chain": [{"handler": "sms", "config": {"to_addr": ")" +
          to_addr_template + R"(", "content": "Thanks"}}]},
          {"on": {"event_type": "ping"}, "chain": [{"handler": "sms", "config": {"to_addr": "+27000000000",
                                                                                  "content": "sentinel"}}]}])");
  const std::string example = "/example.so";
  cfg.replace(cfg.find(example), example.size(), "/send_sms.so");
  if (!ingest_extra.empty()) {
    const std::string ingest = R"("ingest": { "bind": "tcp://127.0.0.1:0" })";
    cfg.replace(cfg.find(ingest), ingest.size(), R"("ingest": { )" + ingest_extra + " }");
  }
  return cfg;
}

struct ReplayDaemon : ::testing::Test, testing::DaemonLink {
  TempDir dir;
};

TEST_F(ReplayDaemon, FailedStepSucceedsAfterTheConfigIsFixedAndTheDeadLetterReplayedExactlyOnce) {
  // Misconfigured: the event has no event_data.phone.
  const auto config = dir.write("config.json", sms_config(dir, "{{/event/event_data/phone}}"));
  ASSERT_TRUE(connect(config));
  ASSERT_TRUE(pub->send("event.acct1.survey.survey_completed", kCompleted));
  ASSERT_TRUE(daemon->process().wait_for_line("dead letter: step_failed", 10s, &cursor));

  // Fix the config and reload.
  dir.write("config.json", sms_config(dir, "{{/event/event_data/from_addr}}"));
  daemon->process().signal(SIGHUP);
  ASSERT_TRUE(daemon->process().wait_for_line("reload: config from", 10s, &cursor))
      << daemon->process().output();

  ChildProcess dry({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--reason",
                    "step_failed", "--dry-run"});
  ASSERT_EQ(dry.wait_exit(30s), 0) << dry.output();
  EXPECT_NE(dry.output().find("1 dead letter(s) would be replayed (dry run)"), std::string::npos)
      << dry.output();

  ChildProcess replay({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--reason",
                       "step_failed", "--connect", daemon->ingest});
  ASSERT_EQ(replay.wait_exit(30s), 0) << replay.output();
  EXPECT_NE(replay.output().find("1 dead letter(s) replayed"), std::string::npos) << replay.output();
  auto sms = sub->receive(15s);
  ASSERT_TRUE(sms) << daemon->process().output();
  auto body = boost::json::parse(sms->body);
  EXPECT_EQ(body.at("to_addr"), "+27831234567");
  EXPECT_EQ(body.at("content"), "Thanks");

  // Replaying again finds nothing: the letter is marked.
  ChildProcess again({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--reason",
                      "step_failed", "--connect", daemon->ingest});
  ASSERT_EQ(again.wait_exit(30s), 0) << again.output();
  EXPECT_NE(again.output().find("no dead letters to replay"), std::string::npos) << again.output();
  // A sentinel after it: a second SMS for the event would have arrived first.
  ASSERT_TRUE(pub->send("event.acct1.survey.ping", kPing));
  auto next = sub->receive(10s);
  ASSERT_TRUE(next);
  EXPECT_EQ(boost::json::parse(next->body).at("content"), "sentinel");

  daemon->process().signal(SIGTERM);
  ASSERT_EQ(daemon->process().wait_exit(30s), 0);
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto letters = store->dead_letters("");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "step_failed");
  EXPECT_EQ(letters[0].source.rfind("ingest " + daemon->ingest + " from 127.0.0.1", 0), 0u)
      << letters[0].source;
  EXPECT_FALSE(letters[0].replayed_at.empty());
}

// The text after key in line, up to a comma, space, quote or brace.
std::string after(const std::string& line, const std::string& key) {
  const auto at = line.find(key) + key.size();
  return line.substr(at, line.find_first_of(", \"}", at) - at);
}

const std::string kCompletedWithId =
    R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
    R"("event_id":"evt-replay-1","event_type":"survey_completed","event_data":{"from_addr":"+27831234567"}})";

std::string ping(int n) {
  return R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
         R"("event_id":"ping-)" +
         std::to_string(n) + R"(","event_type":"ping","event_data":{}})";
}

// The issue's story on reliable ingest, the default path of `dead-letters replay`: the event is in
// the processed-message ledger after its failed run, so the replay must forget it there first.
TEST_F(ReplayDaemon, ThroughReliableIngestTheFixedChainRunsExactlyOnceAndADryRunChangesNothing) {
  const auto config = dir.write(
      "config.json", sms_config(dir, "{{/event/event_data/phone}}",
                                R"("bind": "tcp://127.0.0.1:0", "reliable_bind": "tcp://127.0.0.1:*")"));
  ASSERT_TRUE(connect(config, {"outbound."}, {}));  // workers publish through reliable ingest here
  auto bound = daemon->process().wait_for_line("reliable ingest: bound at ", 10s);
  ASSERT_TRUE(bound) << daemon->process().output();
  const std::string reliable = after(*bound, "bound at ");
  transport::ReliablePublisher worker(context, reliable);
  transport::ReliableOptions quick;
  quick.deadline = 30s;
  auto send = [&](const std::string& topic, const std::string& body, const std::string& msg_id) {
    return worker.publish({{topic, body, msg_id}}, quick);
  };
  // The sentinel: the next SMS must be this one (anything sent before it would have come first).
  int pings = 0;
  auto next_sms_is_sentinel = [&]() {
    const int n = ++pings;
    const auto sent = send("event.acct1.survey.ping", ping(n), "ping-" + std::to_string(n));
    if (sent.ok != 1) return ::testing::AssertionFailure() << "sentinel not acknowledged ok";
    auto sms = sub->receive(15s);
    if (!sms) return ::testing::AssertionFailure() << "no sentinel SMS";
    const auto content = boost::json::parse(sms->body).at("content");
    if (content != "sentinel")
      return ::testing::AssertionFailure() << "an SMS before the sentinel: " << sms->body;
    return ::testing::AssertionSuccess();
  };

  // Misconfigured: the event has no event_data.phone. The failed run is still acknowledged "ok".
  ASSERT_EQ(send("event.acct1.survey.survey_completed", kCompletedWithId, "w-1").ok, 1u);
  ASSERT_TRUE(daemon->process().wait_for_line("dead letter: step_failed", 10s, &cursor));
  std::int64_t id = 0;
  {
    auto store = store::StateStore::open_read_only(dir.path() / "state");
    auto letters = store->dead_letters("acct1");
    ASSERT_EQ(letters.size(), 1u);
    id = letters[0].id;
    EXPECT_EQ(letters[0].reason, "step_failed");
    // Step failures name where the message that led to them came from.
    EXPECT_EQ(letters[0].source.rfind("reliable ingest " + reliable + " from 127.0.0.1", 0), 0u)
        << letters[0].source;
    EXPECT_EQ(letters[0].topic, "event.acct1.survey.survey_completed");
  }
  // The same event again is a duplicate (the ledger has it): nothing runs, no second dead letter.
  EXPECT_EQ(send("event.acct1.survey.survey_completed", kCompletedWithId, "w-2").duplicate, 1u);
  ASSERT_TRUE(next_sms_is_sentinel());

  // Fix the config (the endpoints as bound, for the replay command to find) and reload.
  dir.write("config.json",
            sms_config(dir, "{{/event/event_data/from_addr}}",
                       R"("bind": ")" + daemon->ingest + R"(", "reliable_bind": ")" + reliable + R"(")"));
  daemon->process().signal(SIGHUP);
  ASSERT_TRUE(daemon->process().wait_for_line("reload: config from", 10s, &cursor))
      << daemon->process().output();

  const std::string id_text = std::to_string(id);
  ChildProcess dry(
      {VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--id", id_text, "--dry-run"});
  ASSERT_EQ(dry.wait_exit(30s), 0) << dry.output();
  EXPECT_NE(dry.output().find("would replay " + id_text), std::string::npos) << dry.output();
  EXPECT_NE(dry.output().find("1 dead letter(s) would be replayed (dry run)"), std::string::npos)
      << dry.output();
  // The dry run changed nothing: no SMS, the letter not marked, the ledger still has the event.
  ASSERT_TRUE(next_sms_is_sentinel());
  {
    auto store = store::StateStore::open_read_only(dir.path() / "state");
    auto letters = store->dead_letters("acct1");
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_TRUE(letters[0].replayed_at.empty());
  }
  EXPECT_EQ(send("event.acct1.survey.survey_completed", kCompletedWithId, "w-3").duplicate, 1u);

  // No --connect: through the daemon's reliable ingest, acknowledged before the letter is marked.
  ChildProcess replay(
      {VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--id", id_text});
  ASSERT_EQ(replay.wait_exit(60s), 0) << replay.output();
  EXPECT_NE(replay.output().find("1 dead letter(s) replayed to " + reliable + " (reliable ingest"),
            std::string::npos)
      << replay.output();
  auto sms = sub->receive(15s);
  ASSERT_TRUE(sms) << daemon->process().output();
  auto body = boost::json::parse(sms->body);
  EXPECT_EQ(body.at("to_addr"), "+27831234567");
  EXPECT_EQ(body.at("content"), "Thanks");

  // Exactly once: replaying again finds nothing, the original event is a duplicate again, and the
  // sentinel is the next SMS.
  ChildProcess again({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config.string(), "--id", id_text});
  ASSERT_EQ(again.wait_exit(30s), 0) << again.output();
  EXPECT_NE(again.output().find("no dead letters to replay"), std::string::npos) << again.output();
  EXPECT_EQ(send("event.acct1.survey.survey_completed", kCompletedWithId, "w-4").duplicate, 1u);
  ASSERT_TRUE(next_sms_is_sentinel());

  daemon->process().signal(SIGTERM);
  ASSERT_EQ(daemon->process().wait_exit(30s), 0) << daemon->process().output();
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto letters = store->dead_letters("acct1");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].id, id);
  EXPECT_FALSE(letters[0].replayed_at.empty());
}

}  // namespace
}  // namespace vumi
