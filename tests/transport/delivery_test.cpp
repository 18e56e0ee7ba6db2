// Nothing lost, nothing sent twice (docs/delivery.md), on real processes over 127.0.0.1:
// kill -9 under load with the reliable publisher (and the same over PUB/SUB, reported), a failing
// commit (fault hook in the store), duplicate inbound messages, and a SIGTERM stop. The kill -9 test
// with the reliable publisher runs on every state backend (PostgreSQL on this binary's throwaway
// cluster, tests/support/pg_cluster.hpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "daemon_process.hpp"
#include "pg_cluster.hpp"
#include "store/state_store.hpp"
#include "store/store_factory.hpp"
#include "transport/reliable_publisher.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::counter_value;
using testing::TempDir;

// The config's state settings: the older "state_dir" for sqlite, a "state" block for postgresql.
std::string state_json(const StateConfig& state) {
  if (state.backend == "sqlite") return R"("state_dir": ")" + state.dir.string() + "\"";
  return R"("state": { "backend": "postgresql", "url": ")" + state.url + R"(", "dir": ")" +
         state.dir.string() + "\" }";
}

// An account whose poll_complete runs create_contact (msisdn = from_addr), then send_sms to that
// contact; unrouted inbound messages get an auto-reply.
std::string poll_account(const std::string& key, const std::string& tag) {
  return R"(")" + key + R"(": {
    "conversations": { "poll1": "vxpolls" },
    "tags": [")" +
         tag + R"("],
    "routes": [
      { "on": { "event_type": "poll_complete" }, "chain": [
        { "handler": "contacts", "as": "contact",
          "config": { "fields": { "msisdn": "{{/event/event_data/from_addr}}" } } },
        { "handler": "sms", "config": { "to_addr": "{{/steps/contact/msisdn}}", "content": "Thanks!" } } ] },
      { "on": { "event_type": "inbound_message" }, "chain": [
        { "handler": "fallback", "config": { "auto_reply": "Nothing runs here." } } ] } ] })";
}

// Two such accounts on two dispatch workers (docs/workers.md).
std::string poll_config(const StateConfig& state, const std::string& ingest, const std::string& reliable,
                        const std::string& outbound) {
  return R"({
  "ingest": { "bind": ")" +
         ingest + R"(", "reliable_bind": ")" + reliable + R"(" },
  "outbound": { "bind": ")" +
         outbound + R"(" },
  )" + state_json(state) +
         R"(,
  "plugin_path": [")" VUMI_PLUGIN_DIR R"("],
  "handlers": {
    "contacts": { "type": "create_contact" },
    "sms": { "type": "send_sms", "options": { "transport_name": "sms" } },
    "fallback": { "type": "default_account_handler" }
  },
  "workers": 2,
  "accounts": { )" +
         poll_account("acct1", "longcode:1") + ",\n" + poll_account("acct2", "longcode:2") + R"( }
})";
}

std::string poll_event(const std::string& from_addr, const std::string& account = "acct1") {
  return R"({"account_key":")" + account +
         R"(","conversation_key":"poll1","conversation_type":"vxpolls",)"
         R"("event_type":"poll_complete","event_data":{"from_addr":")" +
         from_addr + R"("}})";
}

// The sentinel's msisdn (create_contact takes 5 to 20 digits): not one of the load's.
const std::string kSentinel = "+27999999999";

std::string msisdn(int i) {
  char text[32];
  std::snprintf(text, sizeof text, "+2782%07d", i);
  return text;
}

// The daemon with its three endpoints; restarts bind the same ones. Its state is in dir/state, or
// in the PostgreSQL database at pg_url when one is given.
struct PollDaemon {
  TempDir& dir;
  StateConfig state;
  std::filesystem::path config;
  std::unique_ptr<ChildProcess> process;
  std::string ingest, reliable, outbound;

  explicit PollDaemon(TempDir& d, const std::string& pg_url = "")
      : dir(d),
        state{
            .backend = pg_url.empty() ? "sqlite" : "postgresql", .dir = dir.path() / "state", .url = pg_url} {
    config = dir.write("config.json",
                       poll_config(state, "tcp://127.0.0.1:0", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"));
    start();
  }

  void start() {
    process = std::make_unique<ChildProcess>(std::vector<std::string>{
        VUMI_DISPATCHER_EXE, "run", "-c", config.string(), "--status-interval", "0"});
    std::size_t cursor = 0;
    auto reliable_line = process->wait_for_line("reliable ingest: bound at ", 30s, &cursor);
    auto listening = process->wait_for_line("listening: ingest ", 30s, &cursor);
    ASSERT_TRUE(reliable_line && listening) << process->output();
    if (ingest.empty()) {
      auto after = [](const std::string& line, const std::string& key) {
        auto at = line.find(key) + key.size();
        return line.substr(at, line.find_first_of(", \"}", at) - at);
      };
      reliable = after(*reliable_line, "bound at ");
      ingest = after(*listening, "ingest ");
      outbound = after(*listening, "outbound ");
      // Restarts bind the same endpoints, which publishers and subscribers reconnect to.
      config = dir.write("config.json", poll_config(state, ingest, reliable, outbound));
    }
  }

  void kill9() {
    process->signal(SIGKILL);
    EXPECT_EQ(process->wait_exit(30s), -SIGKILL);
  }

  std::string stop() {
    process->signal(SIGTERM);
    EXPECT_EQ(process->wait_exit(60s), 0) << process->output();
    auto line = process->wait_for_line("stopped: ", 1s);
    return line ? *line : "";
  }
};

// Collects every outbound SMS: message_id -> to_addr (and how many copies arrived).
class SmsCollector {
 public:
  SmsCollector(zmq::context_t& context, const std::string& endpoint)
      : subscriber_(context, endpoint, {"outbound."}), thread_([this] { run(); }) {}
  ~SmsCollector() {
    stop_ = true;
    thread_.join();
  }

  std::size_t distinct() const {
    std::lock_guard lock(mutex_);
    return to_addr_by_id_.size();
  }
  bool saw_to_addr(const std::string& to_addr) const {
    std::lock_guard lock(mutex_);
    return to_addrs_.count(to_addr) > 0;
  }
  std::map<std::string, std::string> by_id() const {
    std::lock_guard lock(mutex_);
    return to_addr_by_id_;
  }
  std::size_t copies() const {
    std::lock_guard lock(mutex_);
    return copies_;
  }
  std::size_t ids_with_two_addresses() const {
    std::lock_guard lock(mutex_);
    return conflicts_;
  }
  bool wait_for_to_addr(const std::string& to_addr, std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (saw_to_addr(to_addr)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  void run() {
    while (!stop_) {
      auto got = subscriber_.receive(50ms);
      if (!got) continue;
      auto body = boost::json::parse(got->body).as_object();
      const std::string id(body.at("message_id").as_string());
      const std::string to(body.at("to_addr").as_string());
      std::lock_guard lock(mutex_);
      ++copies_;
      auto [at, inserted] = to_addr_by_id_.emplace(id, to);
      if (!inserted && at->second != to) ++conflicts_;
      to_addrs_.insert(to);
    }
  }

  transport::TopicSubscriber subscriber_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> to_addr_by_id_;
  std::set<std::string> to_addrs_;
  std::size_t copies_ = 0;
  std::size_t conflicts_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

std::filesystem::path write_poll_events(TempDir& dir, int count) {
  std::string text;
  text.reserve(static_cast<std::size_t>(count) * 200);
  for (int i = 0; i < count; ++i) text += poll_event(msisdn(i)) + "\n";
  return dir.write("events.jsonl", text);
}

// After the publisher is done: a sentinel event whose SMS arrives after every SMS sent before it
// (one outbound socket, in order), then the store and the SMS seen are compared.
struct Tally {
  std::size_t contacts = 0;
  std::size_t distinct_sms = 0;
  std::size_t contacts_without_sms = 0;
  std::size_t sms_without_contact = 0;
};

Tally settle_and_tally(PollDaemon& daemon, SmsCollector& sms, zmq::context_t& context) {
  transport::ReliablePublisher sentinel(context, daemon.reliable);
  transport::ReliableOptions options;
  options.deadline = 60s;
  auto done =
      sentinel.publish({{"event.acct1.vxpolls.poll_complete", poll_event(kSentinel), "sentinel-1"}}, options);
  EXPECT_EQ(done.acknowledged, 1u);
  EXPECT_TRUE(sms.wait_for_to_addr(kSentinel, 60s));
  daemon.stop();
  auto store = store::open_state_store(daemon.state, store::Access::read_only);
  std::set<std::string> contact_msisdns;
  for (const auto& c : store->contacts("acct1"))
    if (c.msisdn != kSentinel) contact_msisdns.insert(c.msisdn);
  std::set<std::string> sms_to;
  for (const auto& [id, to] : sms.by_id())
    if (to != kSentinel) sms_to.insert(to);
  Tally tally;
  tally.contacts = contact_msisdns.size();
  tally.distinct_sms = sms.distinct() - 1;
  for (const auto& m : contact_msisdns) tally.contacts_without_sms += sms_to.count(m) == 0;
  for (const auto& m : sms_to) tally.sms_without_contact += contact_msisdns.count(m) == 0;
  return tally;
}

constexpr int kLoadEvents = 20'000;

// The kill -9 test on a backend: sqlite in the test's folder, postgresql in a fresh database.
class DeliveryOnBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      database_ = std::make_unique<testing::PgTestDatabase>();
      if (!database_->skip_reason().empty()) GTEST_SKIP() << database_->skip_reason();
    }
  }
  std::string pg_url() const { return database_ ? database_->url() : ""; }

  std::unique_ptr<testing::PgTestDatabase> database_;
};

TEST_P(DeliveryOnBackend, KillNineUnderLoadWithTheReliablePublisherLosesNothingAndSendsNothingTwice) {
  TempDir dir;
  PollDaemon daemon(dir, pg_url());
  ASSERT_FALSE(daemon.reliable.empty());
  zmq::context_t context(1);
  SmsCollector sms(context, daemon.outbound);
  ASSERT_TRUE(daemon.process->wait_for_line("outbound: subscribe \"outbound.\"", 10s));

  const auto start = std::chrono::steady_clock::now();
  const auto events = write_poll_events(dir, kLoadEvents);
  ChildProcess publisher({VUMI_DISPATCHER_EXE, "publish", "--reliable", "--connect", daemon.reliable,
                          "--ack-timeout", "1", "--timeout", "150", events.string()});

  // Two kills at different points of the run, each followed by a restart on the same endpoints.
  for (std::size_t kill_at : {kLoadEvents / 4, kLoadEvents * 3 / 5}) {
    ASSERT_TRUE(wait_until([&] { return sms.distinct() >= kill_at; }, 120s))
        << "only " << sms.distinct() << " SMS before the kill at " << kill_at << "\n"
        << daemon.process->output();
    daemon.kill9();
    std::cout << "[ kill -9 ] at " << sms.distinct() << " distinct SMS seen\n";
    daemon.start();
  }
  ASSERT_EQ(publisher.wait_exit(160s), 0) << publisher.output();
  const Tally tally = settle_and_tally(daemon, sms, context);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ REPORT ] " << GetParam() << ", reliable, 2 x kill -9: " << tally.contacts << " contacts, "
            << tally.distinct_sms << " distinct SMS message_ids (" << sms.copies() - 1
            << " SMS received, duplicates resent by the outbox "
            << "included), " << tally.contacts_without_sms << " contacts without SMS, "
            << tally.sms_without_contact << " SMS without contact; " << seconds << " s\n"
            << "[ REPORT ] publisher: " << publisher.lines().back() << "\n";
  EXPECT_EQ(tally.contacts, static_cast<std::size_t>(kLoadEvents));
  EXPECT_EQ(tally.distinct_sms, static_cast<std::size_t>(kLoadEvents));
  EXPECT_EQ(tally.contacts_without_sms, 0u);
  EXPECT_EQ(tally.sms_without_contact, 0u);
  // A resent SMS keeps its message_id (derived from the event), never a second id for one event.
  EXPECT_EQ(sms.ids_with_two_addresses(), 0u);

  // The inspection commands read the same state through the config (a JSON line per contact).
  ChildProcess contacts({VUMI_DISPATCHER_EXE, "contacts", "-c", daemon.config.string(), "--json"});
  ASSERT_EQ(contacts.wait_exit(60s), 0) << contacts.output().substr(0, 2000);
  EXPECT_EQ(contacts.lines().size(), static_cast<std::size_t>(kLoadEvents) + 1);  // + the sentinel
  for (const char* command : {"inbox", "dead-letters"}) {
    ChildProcess listing({VUMI_DISPATCHER_EXE, command, "-c", daemon.config.string()});
    EXPECT_EQ(listing.wait_exit(30s), 0) << listing.output();
    EXPECT_NE(listing.output().find("no "), std::string::npos) << command << ": " << listing.output();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DeliveryOnBackend,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& backend) { return backend.param; });

TEST(Delivery, KillNineUnderLoadOverPubSubReportsWhatWasLost) {
  TempDir dir;
  PollDaemon daemon(dir);
  zmq::context_t context(1);
  SmsCollector sms(context, daemon.outbound);
  ASSERT_TRUE(daemon.process->wait_for_line("outbound: subscribe \"outbound.\"", 10s));

  const auto events = write_poll_events(dir, kLoadEvents);
  ChildProcess publisher({VUMI_DISPATCHER_EXE, "publish", "--connect", daemon.ingest, events.string()});
  // A PUB/SUB publisher does not wait for the daemon: after the first kill, what it sent is gone
  // and the run may end before the second point; stop waiting once nothing moves for 3 s.
  int kills = 0;
  for (std::size_t kill_at : {kLoadEvents / 4, kLoadEvents * 3 / 5}) {
    std::size_t last = sms.distinct();
    auto last_change = std::chrono::steady_clock::now();
    const bool reached = wait_until(
        [&] {
          const std::size_t now = sms.distinct();
          if (now != last) {
            last = now;
            last_change = std::chrono::steady_clock::now();
          }
          return now >= kill_at || std::chrono::steady_clock::now() - last_change > 3s;
        },
        60s);
    if (!reached || sms.distinct() < kill_at) break;
    daemon.kill9();
    ++kills;
    daemon.start();
  }
  EXPECT_TRUE(publisher.wait_exit(120s).has_value()) << publisher.output();
  const Tally tally = settle_and_tally(daemon, sms, context);
  std::cout << "[ REPORT ] PUB/SUB, " << kills << " x kill -9: " << tally.contacts << " contacts of "
            << kLoadEvents << " (" << kLoadEvents - static_cast<int>(tally.contacts) << " lost), "
            << tally.distinct_sms << " distinct SMS message_ids, " << tally.contacts_without_sms
            << " contacts without SMS, " << tally.sms_without_contact << " SMS without contact\n";
  // What reached the daemon is still all-or-nothing: commit, then send.
  EXPECT_EQ(tally.contacts_without_sms, 0u);
  EXPECT_EQ(tally.sms_without_contact, 0u);
}

TEST(Delivery, AFailingCommitSendsNothingOfItsBatchAndProcessingResumesWhenTheStoreRecovers) {
  TempDir dir;
  const auto fault = dir.path() / "disk-full";
  ::setenv("VUMI_STORE_FAULT_FILE", fault.c_str(), 1);
  PollDaemon daemon(dir);
  ::unsetenv("VUMI_STORE_FAULT_FILE");
  zmq::context_t context(1);
  SmsCollector sms(context, daemon.outbound);
  std::size_t cursor = 0;
  ASSERT_TRUE(daemon.process->wait_for_line("outbound: subscribe \"outbound.\"", 10s, &cursor));

  std::ofstream(fault) << "full\n";
  // Three events for each of two accounts, interleaved: the batch spreads over both workers.
  std::string lines;
  for (int i = 1; i <= 3; ++i)
    lines += poll_event(msisdn(i)) + "\n" + poll_event(msisdn(10 + i), "acct2") + "\n";
  const auto events = dir.write("six.jsonl", lines);
  ChildProcess publisher({VUMI_DISPATCHER_EXE, "publish", "--reliable", "--connect", daemon.reliable,
                          "--ack-timeout", "30", "--timeout", "60", events.string()});
  ASSERT_TRUE(daemon.process->wait_for_line("none of this batch's effects left the process", 30s, &cursor))
      << daemon.process->output();
  ASSERT_TRUE(daemon.process->wait_for_line("attempt 3 of 10 failed", 30s, &cursor))
      << daemon.process->output();
  std::filesystem::remove(fault);
  ASSERT_TRUE(daemon.process->wait_for_line("state: recovered", 30s, &cursor)) << daemon.process->output();
  EXPECT_EQ(publisher.wait_exit(60s), 0) << publisher.output();

  // Send ids are derived from the event, so a send from a failed attempt would show as a second
  // copy of the same message_id: exactly one copy each, seen after the sentinel.
  const std::size_t copies_before_sentinel_check = 6;
  const Tally tally = settle_and_tally(daemon, sms, context);
  EXPECT_EQ(tally.contacts, 3u);
  EXPECT_EQ(store::StateStore::open_read_only(dir.path() / "state")->contacts("acct2").size(), 3u);
  EXPECT_EQ(tally.distinct_sms, 6u);
  EXPECT_EQ(sms.copies(), copies_before_sentinel_check + 1);
  const std::string stopped = daemon.process->wait_for_line("stopped: ", 1s).value_or("");
  EXPECT_GE(std::stoul(counter_value(stopped, "commits_failed").value_or("0")), 3u) << stopped;
  EXPECT_EQ(counter_value(stopped, "batches_recovered"), "1") << stopped;
  EXPECT_EQ(counter_value(stopped, "given_up"), "0") << stopped;
  EXPECT_EQ(counter_value(stopped, "lost"), "0") << stopped;
}

TEST(Delivery, TheSameInboundMessageTwiceIsKeptAndAnsweredOnce) {
  TempDir dir;
  PollDaemon daemon(dir);
  zmq::context_t context(1);
  transport::TopicSubscriber replies(context, daemon.outbound, {"outbound."});
  std::size_t cursor = 0;
  ASSERT_TRUE(daemon.process->wait_for_line("outbound: subscribe \"outbound.\"", 10s, &cursor));
  transport::WorkerPublisher pub(context, daemon.ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"inbound."}, 10s));
  auto inbound = [](const std::string& id) {
    return R"({"message_version":"20110921","message_type":"user_message","message_id":")" + id +
           R"(","to_addr":"1","from_addr":"+27830000001","content":"hi","transport_name":"sms",)"
           R"("transport_type":"sms","helper_metadata":{"tag":{"tag":["longcode","1"]}}})";
  };
  ASSERT_TRUE(pub.send("inbound.sms", inbound("in-1")));
  ASSERT_TRUE(pub.send("inbound.sms", inbound("in-1")));  // redelivered by the transport
  ASSERT_TRUE(pub.send("inbound.sms", inbound("in-2")));  // the sentinel
  std::vector<std::string> answered;
  while (answered.size() < 3) {
    auto got = replies.receive(answered.empty() ? 10s : 2s);
    if (!got) break;
    auto body = boost::json::parse(got->body);
    answered.emplace_back(body.at("in_reply_to").as_string());
    if (answered.back() == "in-2") break;
  }
  ASSERT_FALSE(answered.empty()) << daemon.process->output();
  EXPECT_EQ(answered, (std::vector<std::string>{"in-1", "in-2"}));
  const std::string stopped = daemon.stop();
  EXPECT_NE(stopped.find(" duplicates=1"), std::string::npos) << stopped;
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  EXPECT_EQ(store->inbox("acct1").size(), 2u);  // in-1 once, in-2 once
}

TEST(Delivery, SigtermStopsReadingCommitsAndSaysWhatWasLeftQueued) {
  TempDir dir;
  PollDaemon daemon(dir);
  zmq::context_t context(1);
  SmsCollector sms(context, daemon.outbound);
  ASSERT_TRUE(daemon.process->wait_for_line("outbound: subscribe \"outbound.\"", 10s));
  const auto events = write_poll_events(dir, 5'000);
  ChildProcess publisher({VUMI_DISPATCHER_EXE, "publish", "--reliable", "--connect", daemon.reliable,
                          "--ack-timeout", "1", "--timeout", "120", events.string()});
  ASSERT_TRUE(wait_until([&] { return sms.distinct() >= 1'000; }, 60s));
  daemon.process->signal(SIGTERM);
  EXPECT_EQ(daemon.process->wait_exit(60s), 0);
  auto left = daemon.process->wait_for_line("stopped reading: ", 1s);
  ASSERT_TRUE(left) << daemon.process->output();
  EXPECT_NE(left->find("PUB/SUB message(s) were still queued and are dropped"), std::string::npos) << *left;
  // The reliable publisher resends what was not acknowledged; after a restart every event is done once.
  daemon.start();
  ASSERT_EQ(publisher.wait_exit(120s), 0) << publisher.output();
  const Tally tally = settle_and_tally(daemon, sms, context);
  EXPECT_EQ(tally.contacts, 5'000u);
  EXPECT_EQ(tally.distinct_sms, 5'000u);
  EXPECT_EQ(tally.contacts_without_sms, 0u);
}

}  // namespace
}  // namespace vumi

namespace vumi {
namespace {

TEST(Delivery, PythonAndCppWorkerExamplesPublishReliably) {
  TempDir dir;
  PollDaemon daemon(dir);
  zmq::context_t context(1);
  SmsCollector sms(context, daemon.outbound);
  ASSERT_TRUE(daemon.process->wait_for_line("outbound: subscribe \"outbound.\"", 10s));

  ChildProcess python({"/usr/bin/python3", VUMI_SOURCE_DIR "/examples/python_worker.py", "--reliable",
                       "--connect", daemon.reliable, "--event-data", R"({"from_addr": "+27100000001"})",
                       "--wait", "30"});
  EXPECT_EQ(python.wait_exit(40s), 0) << python.output();
  EXPECT_NE(python.output().find("published event.acct1.vxpolls.poll_complete"), std::string::npos)
      << python.output();
  EXPECT_NE(python.output().find(": ok"), std::string::npos) << python.output();

  ChildProcess cpp({VUMI_CPP_WORKER_EXE, "--reliable", daemon.reliable, "acct1", "poll1", "vxpolls",
                    "poll_complete", R"({"from_addr":"+27200000001"})"});
  EXPECT_EQ(cpp.wait_exit(70s), 0) << cpp.output();
  EXPECT_NE(cpp.output().find(": ok"), std::string::npos) << cpp.output();
  // Acknowledged means committed: both SMS were sent after their commits.
  EXPECT_TRUE(sms.wait_for_to_addr("+27100000001", 10s));
  EXPECT_TRUE(sms.wait_for_to_addr("+27200000001", 10s));
  daemon.stop();
}

}  // namespace
}  // namespace vumi
