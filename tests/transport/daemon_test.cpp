// vumi-dispatcher run as a real process on 127.0.0.1 with ephemeral ports, driven by real sockets
// and by the publish/listen commands and the worker examples.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <fstream>

#include "daemon_process.hpp"
#include "store/state_store.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::counter_value;
using testing::Daemon;
using testing::TempDir;

const std::string kHandlers =
    R"({"noop": {"type": "noop"}, "emit": {"type": "emit_event"}, "fail": {"type": "fail_step"}})";

// ping -> [noop, emit pong carrying the ping's n]
const std::string kPingPong = R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "noop"},
    {"handler": "emit", "config": {"event_type": "pong", "event_data": {"n": "{{/event/event_data/n}}"}}}]}])";

std::string ping(int n, const std::string& event_type = "ping") {
  return R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey","event_type":")" +
         event_type + R"(","event_data":{"n":)" + std::to_string(n) + "}}";
}

std::uint64_t counter(const std::string& line, const std::string& key) {
  auto v = counter_value(line, key);
  return v ? std::stoull(*v) : 0;
}

// Sends pings until a pong reaches sub (so the subscription has reached the daemon); drains the rest.
bool await_outbound_path(transport::WorkerPublisher& pub, transport::TopicSubscriber& sub) {
  for (int i = 0; i < 100; ++i) {
    pub.send("event.acct1.survey.ping", ping(-1));
    if (sub.receive(100ms)) {
      while (sub.receive(200ms)) {
      }
      return true;
    }
  }
  return false;
}

struct Running {
  TempDir dir;
  std::filesystem::path config;
  std::unique_ptr<Daemon> daemon;
  zmq::context_t context{1};

  explicit Running(const std::string& routes, const std::string& extra = "",
                   std::vector<std::string> args = {}) {
    config = dir.write("config.json", testing::test_config(dir.path() / "state", kHandlers, routes, extra));
    daemon = std::make_unique<Daemon>(config, std::move(args));
  }
  ChildProcess& process() { return daemon->process(); }
  // Stops the daemon with signal_number and returns its "stopped:" line (empty on failure).
  std::string stop(int signal_number = SIGTERM) {
    process().signal(signal_number);
    EXPECT_EQ(process().wait_exit(30s), 0) << process().output();
    auto line = process().wait_for_line("stopped: ", 1s);
    return line ? *line : "";
  }
};

TEST(Daemon, PublishedEventRunsItsChainAndTheResultAppearsOnOutbound) {
  Running r(kPingPong);
  ASSERT_TRUE(r.daemon->listening()) << r.process().output();
  transport::WorkerPublisher pub(r.context, r.daemon->ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event.", "command."}, 10s));
  transport::TopicSubscriber sub(r.context, r.daemon->outbound, {"event.acct1.survey.pong", "command."});
  ASSERT_TRUE(await_outbound_path(pub, sub));

  ASSERT_TRUE(pub.send("event.acct1.survey.ping", ping(42)));
  auto got = sub.receive(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "event.acct1.survey.pong");
  auto body = boost::json::parse(got->body);
  EXPECT_EQ(body.at("event_data").at("n").as_int64(), 42);
  EXPECT_EQ(body.at("depth").as_int64(), 1);

  // Commands are forwarded byte for byte.
  const std::string command = R"({"worker_name": "bulk",  "command": "send", "args": [1, 2], "kwargs": {}})";
  ASSERT_TRUE(pub.send("command.bulk", command));
  got = sub.receive(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "command.bulk");
  EXPECT_EQ(got->body, command);
  r.stop();
}

TEST(Daemon, SendSmsPluginPublishesTheUserMessageOnOutbound) {
  TempDir dir;
  auto cfg =
      testing::test_config(dir.path() / "state",
                           R"({"sms": {"type": "send_sms", "options": {"transport_name": "sms_transport"}}})",
                           R"([{"on": {"event_type": "survey_completed"}, "chain": [{"handler": "sms",
                                      "config": {"to_addr": "{{/event/event_data/from_addr}}",
                                                 "content": "Thanks for taking part"}}]}])");
  cfg.replace(cfg.find("/example.so"), 11, "/send_sms.so");
  Daemon daemon(dir.write("config.json", cfg));
  ASSERT_TRUE(daemon.listening()) << daemon.process().output();
  std::size_t cursor = 0;
  zmq::context_t context(1);
  transport::TopicSubscriber sub(context, daemon.outbound, {"outbound."});
  ASSERT_TRUE(daemon.process().wait_for_line("outbound: subscribe \"outbound.\"", 10s, &cursor));
  transport::WorkerPublisher pub(context, daemon.ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  ASSERT_TRUE(pub.send("event.acct1.survey.survey_completed",
                       R"({"account_key":"acct1","conversation_key":"conv1","event_type":"survey_completed",)"
                       R"("content":{"from_addr":"+27831234567"}})"));  // vumi-go style: content, no type
  auto got = sub.receive(10s);
  ASSERT_TRUE(got) << daemon.process().output();
  EXPECT_EQ(got->topic, "outbound.sms_transport");
  auto body = boost::json::parse(got->body);
  EXPECT_EQ(body.at("to_addr").as_string(), "+27831234567");
  EXPECT_EQ(body.at("content").as_string(), "Thanks for taking part");
  EXPECT_EQ(body.at("message_type").as_string(), "user_message");
  EXPECT_EQ(body.at("helper_metadata").at("go").at("user_account").as_string(), "acct1");
  daemon.process().signal(SIGTERM);
  EXPECT_EQ(daemon.process().wait_exit(30s), 0);
}

TEST(Daemon, PublishAndListenCommandsWorkAgainstTheDaemon) {
  Running r(kPingPong);
  ASSERT_TRUE(r.daemon->listening()) << r.process().output();
  std::size_t cursor = 0;
  ChildProcess listen({VUMI_DISPATCHER_EXE, "listen", "--connect", r.daemon->outbound, "--topic", "event.",
                       "--count", "2", "--timeout", "30"});
  ASSERT_TRUE(r.process().wait_for_line("outbound: subscribe \"event.\"", 10s, &cursor))
      << r.process().output();

  const auto input =
      r.dir.write("events.jsonl", ping(1) + "\n\n" + R"({"account_key":"acct1","event_type":"x"})" + "\n" +
                                      ping(2) + "\n" + "not json\n");
  ChildProcess publish({VUMI_DISPATCHER_EXE, "publish", "--connect", r.daemon->ingest, input.string()});
  EXPECT_EQ(publish.wait_exit(30s), 1);  // two lines rejected, the good ones still sent
  const std::string out = publish.output();
  EXPECT_NE(out.find("line 3: missing_field: conversation_type"), std::string::npos) << out;
  EXPECT_NE(out.find("line 5: invalid_json"), std::string::npos) << out;
  EXPECT_NE(out.find("sent 2 messages (2 rejected: see above)"), std::string::npos) << out;

  EXPECT_EQ(listen.wait_exit(30s), 0) << listen.output();
  const auto lines = listen.lines();
  ASSERT_EQ(lines.size(), 2u) << listen.output();
  for (int i = 0; i < 2; ++i) {
    auto v = boost::json::parse(lines[i]);
    EXPECT_EQ(v.at("topic").as_string(), "event.acct1.survey.pong");
    EXPECT_EQ(v.at("body").at("event_data").at("n").as_int64(), i + 1);
  }
  r.stop();
}

TEST(Daemon, PublishWithoutADispatcherFailsClearly) {
  ChildProcess publish(
      {VUMI_DISPATCHER_EXE, "publish", "--connect", "tcp://127.0.0.1:1", "--wait", "0.5", "-"},
      std::filesystem::path("/dev/null"));
  // Nothing to send: exits 0 at once without connecting.
  EXPECT_EQ(publish.wait_exit(10s), 0);
  TempDir dir;
  const auto input = dir.write("one.jsonl", ping(1) + "\n");
  ChildProcess waiting(
      {VUMI_DISPATCHER_EXE, "publish", "--connect", "tcp://127.0.0.1:1", "--wait", "0.5", input.string()});
  EXPECT_EQ(waiting.wait_exit(10s), 3);
  EXPECT_NE(waiting.output().find("no dispatcher subscribed at tcp://127.0.0.1:1 within 0.5 s"),
            std::string::npos)
      << waiting.output();
}

TEST(Daemon, ListenTimesOutWithExitThreeWhenTheCountIsNotReached) {
  Running r(kPingPong);
  ASSERT_TRUE(r.daemon->listening());
  ChildProcess listen(
      {VUMI_DISPATCHER_EXE, "listen", "--connect", r.daemon->outbound, "--count", "1", "--timeout", "0.5"});
  EXPECT_EQ(listen.wait_exit(10s), 3);
  r.stop();
}

TEST(Daemon, IdleDaemonUsesNoCpu) {
  Running r(kPingPong);
  ASSERT_TRUE(r.daemon->listening());
  auto cpu_ticks = [&] {
    std::ifstream stat("/proc/" + std::to_string(r.process().pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stol(f);
      if (i == 15) stime = std::stol(f);
    }
    return utime + stime;
  };
  const long before = cpu_ticks();
  std::this_thread::sleep_for(2s);  // measuring idleness: the wait is the measurement
  EXPECT_LE(cpu_ticks() - before, 2) << "more than 20 ms of CPU in 2 s idle";
  r.stop();
}

TEST(Daemon, StartupErrorsExitNonZeroBeforeListening) {
  TempDir dir;
  // The ingest endpoint is already in use.
  zmq::context_t context(1);
  zmq::socket_t squatter(context, zmq::socket_type::pull);
  squatter.bind("tcp://127.0.0.1:*");
  const std::string taken = squatter.get(zmq::sockopt::last_endpoint);
  auto cfg = testing::test_config(dir.path() / "state", kHandlers, kPingPong);
  cfg.replace(cfg.find("tcp://127.0.0.1:0"), 17, taken);
  {
    ChildProcess p({VUMI_DISPATCHER_EXE, "run", "-c", dir.write("in_use.json", cfg).string()});
    EXPECT_EQ(p.wait_exit(30s), 1);
    EXPECT_NE(p.output().find("ingest: cannot bind \"" + taken + "\""), std::string::npos) << p.output();
    EXPECT_EQ(p.output().find("listening:"), std::string::npos);
  }
  // Bad endpoint syntax is a config error naming the key.
  cfg = testing::test_config(dir.path() / "state", kHandlers, kPingPong);
  cfg.replace(cfg.find("tcp://127.0.0.1:0"), 17, "tcp://127.0.0.1");
  {
    ChildProcess p({VUMI_DISPATCHER_EXE, "run", "-c", dir.write("bad_syntax.json", cfg).string()});
    EXPECT_EQ(p.wait_exit(30s), 1);
    EXPECT_NE(p.output().find("ingest.bind"), std::string::npos) << p.output();
    EXPECT_EQ(p.output().find("listening:"), std::string::npos);
  }
  // The state dir cannot be created (a regular file is in the way).
  dir.write("blocker", "");
  cfg = testing::test_config(dir.path() / "blocker" / "state", kHandlers, kPingPong);
  {
    ChildProcess p({VUMI_DISPATCHER_EXE, "run", "-c", dir.write("bad_state.json", cfg).string()});
    EXPECT_EQ(p.wait_exit(30s), 1);
    EXPECT_NE(p.output().find("not started: state_dir"), std::string::npos) << p.output();
    EXPECT_EQ(p.output().find("listening:"), std::string::npos);
  }
}

TEST(Daemon, GracefulStopFinishesWhatItReadAndCommitsState) {
  // ping -> [noop, fail]: every chain that runs ends in a dead letter written to the state store.
  Running r(R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "noop"}, {"handler": "fail"}]}])");
  ASSERT_TRUE(r.daemon->listening());
  transport::WorkerPublisher pub(r.context, r.daemon->ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  constexpr int kCount = 20000;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(pub.send("event.acct1.survey.ping", ping(i)));
  // Stop while it is busy: what was read is finished, the rest is left unread.
  std::size_t cursor = 0;
  r.process().wait_for_line("dead letter:", 10s, &cursor);
  const std::string stopped = r.stop();
  ASSERT_FALSE(stopped.empty()) << r.process().output();
  const auto received = counter(stopped, "received");
  EXPECT_GT(received, 0u);
  EXPECT_LE(received, static_cast<std::uint64_t>(kCount));
  EXPECT_EQ(counter(stopped, "chains"), received);
  EXPECT_EQ(counter(stopped, "chains_failed"), received);
  EXPECT_EQ(counter(stopped, "dead_letters"), received);
  auto store = store::StateStore::open_read_only(r.dir.path() / "state");
  EXPECT_EQ(store->dead_letters("").size(), received);
}

TEST(Daemon, SighupReloadsAValidConfigAndKeepsTheOldOneWhenInvalid) {
  Running r(kPingPong);
  ASSERT_TRUE(r.daemon->listening());
  transport::WorkerPublisher pub(r.context, r.daemon->ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  transport::TopicSubscriber sub(r.context, r.daemon->outbound, {"event.acct1.survey."});
  ASSERT_TRUE(await_outbound_path(pub, sub));

  // Valid: ping now emits "pong2"; the endpoints changed too, which needs a restart.
  auto cfg = testing::test_config(r.dir.path() / "state", kHandlers, kPingPong);
  cfg.replace(cfg.find("\"pong\""), 6, "\"pong2\"");
  cfg.replace(cfg.find("tcp://127.0.0.1:0"), 17, "tcp://127.0.0.1:1");
  r.dir.write("config.json", cfg);
  std::size_t cursor = 0;
  r.process().signal(SIGHUP);
  ASSERT_TRUE(r.process().wait_for_line("reload: config from", 30s, &cursor)) << r.process().output();
  EXPECT_NE(r.process().output().find("reload: ingest.bind changed"), std::string::npos);
  ASSERT_TRUE(pub.send("event.acct1.survey.ping", ping(7)));
  auto got = sub.receive(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "event.acct1.survey.pong2");

  // Invalid: an unknown handler type; every error is logged and pong2 stays.
  cfg.replace(cfg.find("\"emit_event\""), 12, "\"no_such_type\"");
  r.dir.write("config.json", cfg);
  r.process().signal(SIGHUP);
  ASSERT_TRUE(r.process().wait_for_line("reload failed", 30s, &cursor)) << r.process().output();
  EXPECT_NE(r.process().output().find("no_such_type"), std::string::npos) << r.process().output();
  ASSERT_TRUE(pub.send("event.acct1.survey.ping", ping(8)));
  got = sub.receive(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "event.acct1.survey.pong2");
  r.stop();
}

TEST(Daemon, ASubscriberThatNeverReadsDoesNotStallDispatch) {
  // Each ping emits a ~2 KB pong; a stuck subscriber's queues fill within a few thousand.
  const std::string pad(2000, 'p');
  Running r(R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "emit", "config": {"event_type": "pong",
      "event_data": {"pad": ")" +
                pad + R"("}}}]}])",
            "", {"--status-interval", "1"});
  ASSERT_TRUE(r.daemon->listening());
  std::size_t cursor = 0;
  // A plain SUB with libzmq's default receive high-water mark (1000) that is never read.
  zmq::socket_t stuck(r.context, zmq::socket_type::sub);
  stuck.set(zmq::sockopt::linger, 0);
  stuck.set(zmq::sockopt::subscribe, "");
  stuck.connect(r.daemon->outbound);
  ASSERT_TRUE(r.process().wait_for_line("outbound: subscribe \"\"", 10s, &cursor));
  transport::WorkerPublisher pub(r.context, r.daemon->ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  constexpr std::uint64_t kCount = 40000;
  for (std::uint64_t i = 0; i < kCount; ++i) ASSERT_TRUE(pub.send("event.acct1.survey.ping", ping(1)));
  std::string last;
  for (int i = 0; i < 120 && counter(last, "chains") < kCount; ++i) {
    auto line = r.process().wait_for_line("status: ", 5s, &cursor);
    if (line) last = *line;
  }
  EXPECT_EQ(counter(last, "chains"), kCount) << last;
  EXPECT_GT(counter(last, "subscriber_stalls"), 0u) << last;
  EXPECT_EQ(counter(last, "outbound_sent") + counter(last, "subscriber_stalls"), kCount) << last;
  EXPECT_NE(r.process().output().find("(a subscriber's queue is full)"), std::string::npos);
  r.stop();
}

TEST(Daemon, JsonLogFormatWritesOneJsonObjectPerLine) {
  Running r(kPingPong, "", {"--log-format", "json"});
  ASSERT_TRUE(r.daemon->listening()) << r.process().output();
  EXPECT_FALSE(r.stop(SIGINT).empty());
  for (const auto& line : r.process().lines()) {
    auto v = boost::json::parse(line);
    EXPECT_TRUE(v.as_object().contains("time"));
    EXPECT_TRUE(v.as_object().contains("level"));
    EXPECT_TRUE(v.as_object().contains("msg"));
  }
}

TEST(WorkerExamples, PythonAndCppWorkersPublishAnEventThatRunsItsChain) {
  Running r(kPingPong);
  ASSERT_TRUE(r.daemon->listening());
  std::size_t cursor = 0;
  transport::TopicSubscriber sub(r.context, r.daemon->outbound, {"event.acct1.survey.pong"});
  ASSERT_TRUE(r.process().wait_for_line("outbound: subscribe", 10s, &cursor));

  ChildProcess python({"/usr/bin/python3", VUMI_SOURCE_DIR "/examples/python_worker.py", "--connect",
                       r.daemon->ingest, "--account", "acct1", "--conversation-key", "conv1",
                       "--conversation-type", "survey", "--event-type", "ping", "--event-data",
                       R"({"n": 5})"});
  EXPECT_EQ(python.wait_exit(30s), 0) << python.output();
  EXPECT_NE(python.output().find("published event.acct1.survey.ping"), std::string::npos) << python.output();
  auto got = sub.receive(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(boost::json::parse(got->body).at("event_data").at("n").as_int64(), 5);

  ChildProcess cpp(
      {VUMI_CPP_WORKER_EXE, r.daemon->ingest, "acct1", "conv1", "survey", "ping", R"({"n": 6})"});
  EXPECT_EQ(cpp.wait_exit(30s), 0) << cpp.output();
  got = sub.receive(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(boost::json::parse(got->body).at("event_data").at("n").as_int64(), 6);
  r.stop();
}

}  // namespace
}  // namespace vumi
