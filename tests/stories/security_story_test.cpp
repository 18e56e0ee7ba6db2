// Authenticated ingest and least privilege (docs/security.md), on the shipped config with CURVE:
// a real daemon, real sockets, keys made by the keygen code; each "did not happen" is proved by a
// sentinel sent after it on the same path.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "daemon_link.hpp"
#include "store/state_store.hpp"
#include "transport/curve_keys.hpp"
#include "transport/topic_derivation.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using testing::ChildProcess;
using testing::Daemon;
using testing::read_text;
using testing::replace_once;
using testing::TempDir;

std::string poll_complete(const std::string& account, const std::string& conversation,
                          const std::string& msisdn) {
  return R"({"account_key":")" + account + R"(","conversation_key":")" + conversation +
         R"(","conversation_type":"vxpolls","event_type":"poll_complete","event_data":{"from_addr":")" +
         msisdn + R"(","answers":{"name":"N"}}})";
}

std::string inbound(const std::string& tag, const std::string& from) {
  return R"({"message_type":"user_message","message_version":"20110921","message_id":"m-)" + from +
         R"(","to_addr":"1","from_addr":")" + from +
         R"(","content":"hi","transport_name":"sms_transport","transport_type":"sms","session_event":null,)"
         R"("helper_metadata":{"tag":{"tag":["longcode",")" +
         tag + R"("]}}})";
}

// The shipped config plus account acct2 and CURVE: acct1's worker may publish for acct1 only and
// command worker acct1_bulk; the SMS transport may publish inbound messages; "sms" may read
// outbound.sms_transport only; "auditor" may read everything.
struct SecureStory : ::testing::Test {
  TempDir dir;
  zmq::context_t context{1};
  std::map<std::string, transport::CurveKeyPair> keys;
  std::unique_ptr<Daemon> daemon;
  std::string config_text;

  void SetUp() override {
    for (const char* name : {"daemon", "acct1_worker", "transport", "sms", "auditor", "stranger"}) {
      keys[name] = transport::generate_curve_keypair();
      transport::write_curve_keypair(dir.path() / name, keys[name]);
    }
    std::string cfg = testing::shipped_config("dispatcher.json", dir.path() / "state");
    replace_once(cfg, R"("bind": "tcp://127.0.0.1:0")",
                 R"("bind": "tcp://127.0.0.1:0", "reliable_bind": "tcp://127.0.0.1:*")");
    const std::string security =
        R"("security": {
        "secret_key_file": "daemon.key",
        "publishers": {
          ")" +
        keys["acct1_worker"].public_key +
        R"(": {"name": "acct1_worker", "accounts": ["acct1"], "commands": ["acct1_bulk"]},
          ")" +
        keys["transport"].public_key +
        R"(": {"name": "sms_transport", "accounts": [], "transports": ["sms_transport"]}
        },
        "subscribers": {
          ")" +
        keys["sms"].public_key + R"(": ["outbound.sms_transport"],
          ")" +
        keys["auditor"].public_key + R"(": [""]
        }
      },
      "accounts": {
        "acct2": {
          "conversations": { "pollB": "vxpolls" },
          "tags": ["longcode:22222"],
          "routes": [ { "on": { "event_type": "poll_complete" },
                        "chain": [ { "handler": "poll_contacts", "as": "contact",
                                     "config": { "fields": { "msisdn": "{{/event/event_data/from_addr}}" } } },
                                   { "handler": "sms", "config": { "to_addr": "{{/steps/contact/msisdn}}",
                                                                   "content": "acct2 says hi" } } ] } ] },)";
    replace_once(cfg, R"("accounts": {)", security);
    config_text = cfg;
    daemon = std::make_unique<Daemon>(dir.write("config.json", cfg));
    ASSERT_TRUE(daemon->listening()) << daemon->process().output();
  }

  transport::CurveClientKeys client(const std::string& name) {
    return {keys[name], keys["daemon"].public_key};
  }

  std::unique_ptr<transport::WorkerPublisher> publisher(const std::string& name) {
    return std::make_unique<transport::WorkerPublisher>(context, daemon->ingest, 10s, 10s, client(name));
  }

  // A subscriber whose subscriptions the daemon has applied (or refused) by the time it returns.
  std::unique_ptr<transport::TopicSubscriber> subscriber(const std::string& name,
                                                         std::vector<std::string> prefixes) {
    std::size_t cursor = 0;
    auto sub =
        std::make_unique<transport::TopicSubscriber>(context, daemon->outbound, prefixes, client(name));
    for (std::size_t i = 0; i < prefixes.size(); ++i)
      EXPECT_TRUE(daemon->process().wait_for_line("outbound: ", 10s, &cursor)) << daemon->process().output();
    return sub;
  }

  // Outbound messages until one on topic whose body contains needle arrives (that one included).
  std::vector<transport::ReceivedMessage> receive_until(transport::TopicSubscriber& sub,
                                                        const std::string& topic, const std::string& needle) {
    std::vector<transport::ReceivedMessage> got;
    for (int i = 0; i < 100; ++i) {
      auto m = sub.receive(10s);
      if (!m) break;
      got.push_back(*m);
      if (m->topic == topic && m->body.find(needle) != std::string::npos) return got;
    }
    ADD_FAILURE() << "no " << topic << " with " << needle << "\n" << daemon->process().output();
    return got;
  }

  std::string stop() {
    daemon->process().signal(SIGTERM);
    EXPECT_EQ(daemon->process().wait_exit(30s), 0) << daemon->process().output();
    auto line = daemon->process().wait_for_line("stopped: ", 1s);
    return line ? *line : "";
  }
};

TEST_F(SecureStory, AnUnknownKeyIsRefusedAtTheHandshakeAndNothingItSentHasAnyEffect) {
  auto auditor = subscriber("auditor", {""});
  // A key the config does not list, and a worker without CURVE at all.
  auto stranger = publisher("stranger");
  transport::WorkerPublisher plain(context, daemon->ingest, 1s, 1s);
  std::size_t cursor = 0;
  ASSERT_TRUE(
      daemon->process().wait_for_line("security: refused a connection from 127.0.0.1 to ingest: key " +
                                          keys["stranger"].public_key + " is not among security.publishers",
                                      10s, &cursor))
      << daemon->process().output();
  // The daemon never subscribed to either, so nothing they send can reach it.
  EXPECT_FALSE(stranger->wait_for_subscriptions({"event."}, 1s));
  EXPECT_FALSE(plain.wait_for_subscriptions({"event."}, 1s));
  stranger->send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "poll1", "+27000000666"));
  plain.send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "poll1", "+27000000667"));

  auto worker = publisher("acct1_worker");
  ASSERT_TRUE(worker->wait_for_subscriptions({"event."}, 10s));
  ASSERT_TRUE(
      worker->send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "poll1", "+27000000001")));
  for (const auto& m : receive_until(*auditor, "outbound.sms_transport", "+27000000001")) {
    EXPECT_EQ(m.body.find("+2700000066"), std::string::npos) << m.topic << " " << m.body;
  }
  const std::string stopped = stop();
  EXPECT_GE(std::stoull(testing::counter_value(stopped, "handshakes_refused").value_or("0")), 1u) << stopped;

  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto contacts = store->contacts("acct1");
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].msisdn, "+27000000001");
  EXPECT_TRUE(store->dead_letters("").empty());
}

TEST_F(SecureStory, APublisherAllowedOnlyAcct1CannotCreateAContactSendAnSmsOrForwardACommandForAcct2) {
  auto auditor = subscriber("auditor", {""});
  auto worker = publisher("acct1_worker");
  ASSERT_TRUE(worker->wait_for_subscriptions({"event.", "command.", "inbound."}, 10s));
  // For acct2: a poll completion (a contact and an SMS), a command to acct2's worker, and an
  // inbound message on acct2's tag (only a transport's key may publish those).
  ASSERT_TRUE(
      worker->send("event.acct2.vxpolls.poll_complete", poll_complete("acct2", "pollB", "+27000000002")));
  ASSERT_TRUE(worker->send("command.acct2_bulk", R"({"worker_name":"acct2_bulk","command":"send"})"));
  ASSERT_TRUE(worker->send("inbound.sms_transport", inbound("22222", "+27000000003")));
  // Allowed: its own command and, as the sentinel, acct1's poll completion.
  ASSERT_TRUE(worker->send("command.acct1_bulk", R"({"worker_name":"acct1_bulk","command":"send"})"));
  ASSERT_TRUE(
      worker->send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "poll1", "+27000000001")));

  const auto got = receive_until(*auditor, "outbound.sms_transport", "+27000000001");
  std::vector<std::string> topics;
  for (const auto& m : got) topics.push_back(m.topic);
  EXPECT_EQ(topics, (std::vector<std::string>{"command.acct1_bulk", "outbound.sms_transport"}));
  stop();

  auto store = store::StateStore::open_read_only(dir.path() / "state");
  EXPECT_TRUE(store->contacts("acct2").empty());
  EXPECT_EQ(store->contacts("acct1").size(), 1u);
  EXPECT_TRUE(store->inbox("").empty());
  // The three refusals share reason and source, so they coalesce into one row counted 3 (the
  // first one kept as the sample).
  const auto letters = store->dead_letters("");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].count, 3);
  for (const auto& letter : letters) EXPECT_EQ(letter.reason, "forbidden") << letter.message;
  EXPECT_NE(letters[0].message.find("may not publish for account \"acct2\""), std::string::npos)
      << letters[0].message;
}

TEST_F(SecureStory, ASubscriberLimitedToOutboundSmsTransportNeverReceivesConversationMessages) {
  auto auditor = subscriber("auditor", {""});
  // Asks for everything (narrowed to what it may read) and for conversations (refused).
  auto sms = subscriber("sms", {"", "conversation."});
  EXPECT_TRUE(
      daemon->process().wait_for_line("outbound: subscribe \"\" narrowed to \"outbound.sms_transport\"", 1s));
  EXPECT_TRUE(daemon->process().wait_for_line("outbound: refused subscription \"conversation.\"", 1s));

  auto transport = publisher("transport");
  ASSERT_TRUE(transport->wait_for_subscriptions({"inbound."}, 10s));
  // Tag 12345 is routed to conversation poll1; then, as the sentinel, tag 67890 is unrouted and
  // gets the default handler's auto-reply on outbound.sms_transport.
  ASSERT_TRUE(transport->send("inbound.sms_transport", inbound("12345", "+27000000004")));
  ASSERT_TRUE(transport->send("inbound.sms_transport", inbound("67890", "+27000000005")));

  bool auditor_saw_conversation = false;
  for (const auto& m : receive_until(*auditor, "outbound.sms_transport", "+27000000005"))
    auditor_saw_conversation |= m.topic == "conversation.vxpolls.poll1";
  EXPECT_TRUE(auditor_saw_conversation);
  for (const auto& m : receive_until(*sms, "outbound.sms_transport", "+27000000005"))
    EXPECT_EQ(m.topic, "outbound.sms_transport") << m.body;
  const std::string stopped = stop();
  EXPECT_EQ(testing::counter_value(stopped, "subscriptions_refused"), "1") << stopped;
}

TEST_F(SecureStory, ReloadedRightsApplyToTheNextMessageOfAConnectedPublisher) {
  auto auditor = subscriber("auditor", {""});
  auto worker = publisher("acct1_worker");
  ASSERT_TRUE(worker->wait_for_subscriptions({"event."}, 10s));
  ASSERT_TRUE(
      worker->send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "poll1", "+27000000021")));
  receive_until(*auditor, "outbound.sms_transport", "+27000000021");

  // The operator moves the key from acct1 to acct2 and reloads; the connection stays open.
  std::size_t cursor = 0;
  replace_once(config_text, R"("accounts": ["acct1"], "commands": ["acct1_bulk"])",
               R"("accounts": ["acct2"])");
  dir.write("config.json", config_text);
  daemon->process().signal(SIGHUP);
  ASSERT_TRUE(daemon->process().wait_for_line("reload: config from", 10s, &cursor))
      << daemon->process().output();
  ASSERT_TRUE(
      worker->send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "poll1", "+27000000022")));
  ASSERT_TRUE(
      worker->send("event.acct2.vxpolls.poll_complete", poll_complete("acct2", "pollB", "+27000000023")));
  for (const auto& m : receive_until(*auditor, "outbound.sms_transport", "+27000000023"))
    EXPECT_EQ(m.body.find("+27000000022"), std::string::npos) << m.body;
  stop();
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  const auto letters = store->dead_letters("");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "forbidden");
  EXPECT_NE(letters[0].message.find("(its accounts: acct2)"), std::string::npos) << letters[0].message;
}

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0xFFFF;
}

TEST_F(SecureStory, KeygenPublishListenAndTheWorkerExamplesTakeKeyFiles) {
  const auto base = dir.path() / "made";
  ChildProcess keygen({VUMI_DISPATCHER_EXE, "keygen", base.string()});
  ASSERT_EQ(keygen.wait_exit(30s), 0) << keygen.output();
  EXPECT_EQ(mode_of(base.string() + ".key"), 0600u);
  EXPECT_EQ(mode_of(base.string() + ".pub"), 0644u);
  EXPECT_EQ(read_text(base.string() + ".pub").size(), 41u);
  ChildProcess again({VUMI_DISPATCHER_EXE, "keygen", base.string()});
  EXPECT_EQ(again.wait_exit(30s), 1);
  EXPECT_NE(again.output().find("never overwrites a key"), std::string::npos) << again.output();

  const std::string daemon_pub = (dir.path() / "daemon.pub").string();
  ChildProcess listen({VUMI_DISPATCHER_EXE, "listen", "--connect", daemon->outbound, "--key",
                       (dir.path() / "sms.key").string(), "--server-key", daemon_pub, "--count", "3",
                       "--timeout", "60"});
  std::size_t cursor = 0;
  ASSERT_TRUE(daemon->process().wait_for_line("outbound: subscribe \"\" narrowed", 30s, &cursor))
      << daemon->process().output();

  const auto input = dir.write("events.jsonl", poll_complete("acct1", "poll1", "+27000000011") + "\n");
  ChildProcess publish({VUMI_DISPATCHER_EXE, "publish", "--connect", daemon->ingest, "--key",
                        (dir.path() / "acct1_worker.key").string(), "--server-key", daemon_pub,
                        input.string()});
  EXPECT_EQ(publish.wait_exit(30s), 0) << publish.output();
  // Without keys the CURVE daemon never subscribes: nothing is sent.
  ChildProcess refused(
      {VUMI_DISPATCHER_EXE, "publish", "--connect", daemon->ingest, "--wait", "1", input.string()});
  EXPECT_EQ(refused.wait_exit(30s), 3) << refused.output();
  EXPECT_NE(refused.output().find("needs --key and --server-key"), std::string::npos) << refused.output();

  ChildProcess python({"/usr/bin/python3", VUMI_SOURCE_DIR "/examples/python_worker.py", "--connect",
                       daemon->ingest, "--key", (dir.path() / "acct1_worker.key").string(), "--server-key",
                       daemon_pub, "--event-data",
                       R"({"from_addr": "+27000000012", "answers": {"name": "P"}})"});
  EXPECT_EQ(python.wait_exit(30s), 0) << python.output();
  ChildProcess cpp({VUMI_CPP_WORKER_EXE, "--key", (dir.path() / "acct1_worker.key").string(), "--server-key",
                    daemon_pub, daemon->ingest, "acct1", "poll1", "vxpolls", "poll_complete",
                    R"({"from_addr":"+27000000013","answers":{"name":"C"}})"});
  EXPECT_EQ(cpp.wait_exit(30s), 0) << cpp.output();

  EXPECT_EQ(listen.wait_exit(60s), 0) << listen.output();
  const std::string out = listen.output();
  for (const char* msisdn : {"+27000000011", "+27000000012", "+27000000013"})
    EXPECT_NE(out.find(msisdn), std::string::npos) << out;
  stop();
}

TEST_F(SecureStory, ReliablePublishTakesKeyFilesAndWithoutThemNothingIsAcknowledged) {
  auto bound = daemon->process().wait_for_line("reliable ingest: bound at ", 10s);
  ASSERT_TRUE(bound) << daemon->process().output();
  const auto at = bound->find("bound at ") + 9;
  const std::string reliable = bound->substr(at, bound->find_first_of(", \"}", at) - at);
  const std::string daemon_pub = (dir.path() / "daemon.pub").string();
  const auto input = dir.write("events.jsonl", poll_complete("acct1", "poll1", "+27000000021") + "\n");
  ChildProcess publish({VUMI_DISPATCHER_EXE, "publish", "--reliable", "--connect", reliable, "--key",
                        (dir.path() / "acct1_worker.key").string(), "--server-key", daemon_pub, "--timeout",
                        "30", input.string()});
  EXPECT_EQ(publish.wait_exit(60s), 0) << publish.output();
  EXPECT_NE(publish.output().find("acknowledged 1 of 1 message(s): 1 ok"), std::string::npos)
      << publish.output();
  // Without keys the CURVE handshake never completes: nothing is acknowledged (exit 3).
  ChildProcess refused({VUMI_DISPATCHER_EXE, "publish", "--reliable", "--connect", reliable, "--timeout", "2",
                        "--ack-timeout", "1", input.string()});
  EXPECT_EQ(refused.wait_exit(60s), 3) << refused.output();
  stop();
}

// `dead-letters replay` connects like any worker: with --key/--server-key it reaches a CURVE ingest
// and the letter runs; without them the handshake never completes and nothing is replayed.
TEST_F(SecureStory, DeadLetterReplayTakesKeyFilesAndWithoutThemReplaysNothing) {
  auto sms = subscriber("sms", {"outbound.sms_transport"});
  store::DeadLetter letter;
  letter.reason = "step_failed";
  letter.message = "put by the test";
  letter.account_key = "acct1";
  letter.topic = "event.acct1.vxpolls.poll_complete";
  letter.input = poll_complete("acct1", "poll1", "+27000000031");
  {
    auto store = store::StateStore::open(dir.path() / "state");
    ASSERT_TRUE(store->dead_letter_put(letter).has_value());
  }
  const std::string config = (dir.path() / "config.json").string();
  ChildProcess keyless({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config, "--reason",
                        "step_failed", "--connect", daemon->ingest, "--wait", "1"});
  EXPECT_EQ(keyless.wait_exit(60s), 1) << keyless.output();
  EXPECT_NE(keyless.output().find("Nothing was replayed"), std::string::npos) << keyless.output();

  ChildProcess replay({VUMI_DISPATCHER_EXE, "dead-letters", "replay", "-c", config, "--reason", "step_failed",
                       "--connect", daemon->ingest, "--key", (dir.path() / "acct1_worker.key").string(),
                       "--server-key", (dir.path() / "daemon.pub").string()});
  EXPECT_EQ(replay.wait_exit(60s), 0) << replay.output();
  EXPECT_NE(replay.output().find("1 dead letter(s) replayed"), std::string::npos) << replay.output();
  // The replayed poll completion is the first SMS out: the keyless attempt sent nothing before it.
  auto out = sms->receive(10s);
  ASSERT_TRUE(out) << daemon->process().output();
  EXPECT_NE(out->body.find("+27000000031"), std::string::npos) << out->body;
  stop();
}

}  // namespace
}  // namespace vumi
