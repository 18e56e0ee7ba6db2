// Crash report and quarantine: a handler that segfaults on one marked event. The log names where
// it crashed; after a restart the event is a handler_crashed dead letter, every other event of
// every account is processed, and a resent copy of the poison is dead-lettered, not run.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <map>

#include "daemon_process.hpp"
#include "store/state_store.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;

std::string crash_config(const std::filesystem::path& state_dir) {
  const std::string route = R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "boom"},
      {"handler": "echo", "config": {"event_type": "pong", "event_data": {"n": "{{/event/event_data/n}}"}}}]}])";
  return std::string("{\n") +
         R"("ingest": {"bind": "tcp://127.0.0.1:0"}, "outbound": {"bind": "tcp://127.0.0.1:*"},)" +
         "\n\"state_dir\": \"" + state_dir.string() + "\",\n" + R"("plugin_path": [")" + VUMI_PLUGIN_DIR +
         R"(/example.so", ")" + VUMI_FIXTURE_DIR + R"(/crash_on_mark.so"],)" + "\n" +
         R"("handlers": {"boom": {"type": "crash_on_mark"}, "echo": {"type": "emit_event"}},)" + "\n" +
         R"("accounts": {"acct1": {"conversations": {"conv1": "survey"}, "routes": )" + route +
         R"(}, "acct2": {"conversations": {"conv1": "survey"}, "routes": )" + route + "}}\n}\n";
}

std::string ping(const std::string& account, int n, const std::string& extra = "") {
  return R"({"account_key":")" + account +
         R"(","conversation_key":"conv1","conversation_type":"survey","event_type":"ping",)" + extra +
         R"("event_data":{"n":)" + std::to_string(n) + "}}";
}

// The poison: its event_data holds "crash":true, which makes crash_on_mark write through null.
std::string poison(const std::string& event_id_field) {
  return R"({"account_key":"acct2","conversation_key":"conv1","conversation_type":"survey","event_type":"ping",)" +
         event_id_field + R"("event_data":{"n":-2,"crash":true}})";
}

// A publisher and a subscriber for pongs, connected to one running daemon.
class Worker {
 public:
  explicit Worker(testing::Daemon& daemon)
      : pub_(context_, daemon.ingest),
        sub_(context_, daemon.outbound, {"event.acct1.survey.pong", "event.acct2.survey.pong"}) {}

  // True once the path publish -> daemon -> outbound -> subscriber works (probe pongs are dropped).
  bool ready() {
    if (!pub_.wait_for_subscriptions({"event."}, 10s)) return false;
    bool ok = false;
    for (int i = 0; i < 100 && !ok; ++i) {
      if (!pub_.send("event.acct1.survey.ping", ping("acct1", -1))) return false;
      ok = sub_.receive(100ms).has_value();
    }
    while (sub_.receive(300ms)) {
    }
    return ok;
  }

  bool send(const std::string& account, const std::string& body) {
    return pub_.send("event." + account + ".survey.ping", body);
  }

  // Receives pongs until `until` (account, n) arrives; returns every n seen per account.
  std::map<std::string, std::vector<long>> pongs_until(const std::string& account, long n) {
    std::map<std::string, std::vector<long>> seen;
    for (int waited = 0; waited < 60;) {
      auto message = sub_.receive(1s);
      if (!message) {
        ++waited;
        continue;
      }
      const auto body = boost::json::parse(message->body);
      const std::string from(body.at("account_key").as_string());
      const long value = static_cast<long>(body.at("event_data").at("n").as_int64());
      if (value == -1) continue;  // a late probe
      seen[from].push_back(value);
      if (from == account && value == n) break;
    }
    return seen;
  }

 private:
  zmq::context_t context_{1};
  transport::WorkerPublisher pub_;
  transport::TopicSubscriber sub_;
};

std::vector<long> range(long from, long to) {
  std::vector<long> out;
  for (long i = from; i < to; ++i) out.push_back(i);
  return out;
}

bool has_line(testing::ChildProcess& process, const std::vector<std::string>& parts) {
  for (const auto& line : process.lines()) {
    bool all = true;
    for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

TEST(CrashQuarantine, SegfaultingHandlerIsReportedQuarantinedAndOtherTrafficContinues) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles SIGSEGV itself";
#endif
  testing::TempDir dir;
  const auto config = dir.write("config.json", crash_config(dir.path() / "state"));

  {  // First run: traffic of both accounts, then the poison crashes the daemon.
    testing::Daemon daemon(config);
    ASSERT_TRUE(daemon.listening()) << daemon.process().output();
    Worker worker(daemon);
    ASSERT_TRUE(worker.ready()) << daemon.process().output();
    for (int n = 0; n < 50; ++n) {
      ASSERT_TRUE(worker.send("acct1", ping("acct1", n)));
      ASSERT_TRUE(worker.send("acct2", ping("acct2", n)));
    }
    auto seen = worker.pongs_until("acct2", 49);
    EXPECT_EQ(seen["acct1"], range(0, 50));
    EXPECT_EQ(seen["acct2"], range(0, 50));

    ASSERT_TRUE(worker.send("acct2", poison(R"("event_id":"poison-1",)")));
    ASSERT_EQ(daemon.process().wait_exit(30s), -SIGSEGV) << daemon.process().output();
    // The report reached the log before the process died.
    EXPECT_TRUE(has_line(
        daemon.process(),
        {"critical crash: SIGSEGV (address 0x0)", R"(in plugin "crash_fixture")",
         R"(handler type "crash_on_mark")", R"(handler "boom")", R"(account "acct2")", R"(event "poison-1")",
         R"(route "accounts.acct2.routes[0]")", R"(step "accounts.acct2.routes[0].chain[0]")"}))
        << daemon.process().output();
    EXPECT_TRUE(has_line(daemon.process(), {"crash: the message (event:poison-1,"}))
        << daemon.process().output();
    EXPECT_TRUE(has_line(daemon.process(), {"crash: #0 ", "crash_on_mark.so+0x"}))
        << daemon.process().output();
  }

  {  // Restart: the crash is reported with symbols and dead-lettered; traffic goes on.
    testing::Daemon daemon(config);
    ASSERT_TRUE(daemon.listening()) << daemon.process().output();
    EXPECT_TRUE(has_line(daemon.process(), {"previous run crashed: SIGSEGV", R"(handler "boom")"}))
        << daemon.process().output();
    EXPECT_TRUE(has_line(daemon.process(), {"previous run crashed: #0 crash_on_mark_handle"}))
        << daemon.process().output();
    Worker worker(daemon);
    ASSERT_TRUE(worker.ready()) << daemon.process().output();
    for (int n = 100; n < 150; ++n) {
      ASSERT_TRUE(worker.send("acct1", ping("acct1", n)));
      ASSERT_TRUE(worker.send("acct2", ping("acct2", n)));
    }
    // A reliable publisher resends what was not acknowledged: the same poison comes back.
    ASSERT_TRUE(worker.send("acct2", poison(R"("event_id":"poison-1",)")));
    for (int n = 150; n < 200; ++n) {
      ASSERT_TRUE(worker.send("acct1", ping("acct1", n)));
      ASSERT_TRUE(worker.send("acct2", ping("acct2", n)));
    }
    // The last pong comes after the poison on the same connection: had it run, the daemon would
    // have crashed before this arrives.
    auto seen = worker.pongs_until("acct2", 199);
    EXPECT_EQ(seen["acct1"], range(100, 200));
    EXPECT_EQ(seen["acct2"], range(100, 200));
    EXPECT_FALSE(daemon.process().wait_exit(0ms)) << "the daemon stopped: " << daemon.process().output();

    daemon.process().signal(SIGTERM);
    ASSERT_EQ(daemon.process().wait_exit(30s), 0) << daemon.process().output();
    auto stopped = daemon.process().wait_for_line("stopped: ", 1s);
    ASSERT_TRUE(stopped);
    EXPECT_EQ(testing::counter_value(*stopped, "quarantined"), "1") << *stopped;
    EXPECT_EQ(testing::counter_value(*stopped, "dead_letters"), "2") << *stopped;
  }

  auto store = store::StateStore::open_read_only(dir.path() / "state");
  EXPECT_TRUE(store->dead_letters("acct1").empty());
  const auto letters = store->dead_letters("acct2");
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].reason, "handler_crashed");
  EXPECT_NE(letters[0].message.find("SIGSEGV"), std::string::npos) << letters[0].message;
  EXPECT_NE(letters[0].message.find("crash_on_mark_handle"), std::string::npos) << letters[0].message;
  EXPECT_EQ(letters[0].route, "accounts.acct2.routes[0]");
  EXPECT_EQ(letters[0].step, R"(accounts.acct2.routes[0].chain[0] (handler "boom"))");
  EXPECT_EQ(letters[0].input, poison(R"("event_id":"poison-1",)"));
  EXPECT_EQ(letters[1].reason, "handler_crashed");
  EXPECT_NE(letters[1].message.find("event:poison-1"), std::string::npos) << letters[1].message;
  EXPECT_EQ(letters[1].input, poison(R"("event_id":"poison-1",)"));
}

TEST(CrashQuarantine, PoisonWithoutEventIdIsRecognisedByItsBytesAfterRestart) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles SIGSEGV itself";
#endif
  testing::TempDir dir;
  const auto config = dir.write("config.json", crash_config(dir.path() / "state"));
  {
    testing::Daemon daemon(config);
    ASSERT_TRUE(daemon.listening()) << daemon.process().output();
    Worker worker(daemon);
    ASSERT_TRUE(worker.ready()) << daemon.process().output();
    ASSERT_TRUE(worker.send("acct2", poison("")));
    ASSERT_EQ(daemon.process().wait_exit(30s), -SIGSEGV) << daemon.process().output();
    EXPECT_TRUE(has_line(daemon.process(), {"crash: the message (body:"})) << daemon.process().output();
  }
  {
    testing::Daemon daemon(config);
    ASSERT_TRUE(daemon.listening()) << daemon.process().output();
    Worker worker(daemon);
    ASSERT_TRUE(worker.ready()) << daemon.process().output();
    // Each decode gives an id-less event a fresh id; the bytes are what identify it.
    ASSERT_TRUE(worker.send("acct2", poison("")));
    ASSERT_TRUE(worker.send("acct1", ping("acct1", 7)));
    auto seen = worker.pongs_until("acct1", 7);
    EXPECT_EQ(seen["acct1"], std::vector<long>{7});
    daemon.process().signal(SIGTERM);
    ASSERT_EQ(daemon.process().wait_exit(30s), 0) << daemon.process().output();
  }
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  const auto letters = store->dead_letters("");
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].reason, "handler_crashed");
  EXPECT_EQ(letters[1].reason, "handler_crashed");
  EXPECT_NE(letters[1].message.find("body:"), std::string::npos) << letters[1].message;
  EXPECT_EQ(letters[1].input, poison(""));
}

}  // namespace
}  // namespace vumi
