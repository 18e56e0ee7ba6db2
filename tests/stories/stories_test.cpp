// The poll story and the inbound story on the shipped embedded config (config/dispatcher.json):
// a real daemon, the four plugins, real sockets; asserting the exact outbound messages, the stored
// contact and the inbox entry.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "daemon_link.hpp"
#include "store/state_store.hpp"
#include "transport/topic_derivation.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using testing::replace_once;
using testing::TempDir;

// The shipped config with ephemeral ports, state in dir and this build's plugins.
std::string shipped_config(const std::filesystem::path& state_dir) {
  return testing::shipped_config("dispatcher.json", state_dir);
}

// The demo's sample messages: a poll completion, an inbound SMS on a routed tag, one on an unrouted tag.
std::vector<std::string> demo_events() {
  std::ifstream in(VUMI_SOURCE_DIR "/scripts/demo-events.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

struct Story : ::testing::Test, testing::DaemonLink {
  TempDir dir;

  // The daemon on config_text; a subscriber to all it sends, a publisher of events and inbound messages.
  void start(const std::string& config_text) {
    ASSERT_TRUE(connect(dir.write("config.json", config_text), {}, {"event.", "inbound."}));
  }
  // Publishes one JSON line as `vumi-dispatcher publish` would (topic derived from the body).
  void publish_event(const std::string& body) {
    auto topic = transport::derive_topic(json::parse(body).as_object());
    ASSERT_TRUE(topic) << topic.error().text();
    ASSERT_TRUE(pub->send(*topic, body));
  }
  // The next n outbound messages (topic, parsed body), in arrival order.
  std::vector<std::pair<std::string, json::object>> receive(std::size_t n,
                                                            std::chrono::milliseconds timeout = 10s) {
    std::vector<std::pair<std::string, json::object>> got;
    while (got.size() < n) {
      auto m = sub->receive(timeout);
      if (!m) break;
      got.emplace_back(m->topic, json::parse(m->body).as_object());
    }
    return got;
  }
  void stop() {
    daemon->process().signal(SIGTERM);
    EXPECT_EQ(daemon->process().wait_exit(30s), 0) << daemon->process().output();
  }
};

TEST_F(Story, PollCompletionCreatesTheContactAndThanksThemBySms) {
  start(shipped_config(dir.path() / "state"));
  publish_event(demo_events().at(0));
  auto got = receive(1);
  ASSERT_EQ(got.size(), 1u) << daemon->process().output();
  const auto& [topic, sms] = got[0];
  EXPECT_EQ(topic, "outbound.sms_transport");
  EXPECT_EQ(sms.at("message_type"), "user_message");
  EXPECT_EQ(sms.at("message_version"), "20110921");
  EXPECT_EQ(sms.at("to_addr"), "+27831234567");
  EXPECT_EQ(sms.at("content"), "Thanks Thandi!");
  EXPECT_EQ(sms.at("transport_name"), "sms_transport");
  EXPECT_EQ(sms.at("transport_type"), "sms");
  EXPECT_TRUE(sms.at("in_reply_to").is_null());
  EXPECT_TRUE(sms.at("session_event").is_null());
  EXPECT_EQ(sms.at("message_id").as_string().size(), 32u);
  EXPECT_EQ(sms.at("helper_metadata").at("go").at("user_account"), "acct1");
  EXPECT_EQ(sms.at("helper_metadata").at("go").at("conversation_key"), "poll1");
  stop();

  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto contacts = store->contacts("acct1");
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].msisdn, "+27831234567");
  EXPECT_EQ(contacts[0].name, "Thandi");
  EXPECT_TRUE(store->dead_letters("").empty());
}

TEST_F(Story, PollCompletionTwiceUpdatesTheSameContact) {
  start(shipped_config(dir.path() / "state"));
  publish_event(demo_events().at(0));
  std::string again = demo_events().at(0);
  replace_once(again, "Thandi", "Thandiwe");
  publish_event(again);
  auto got = receive(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].second.at("content"), "Thanks Thandiwe!");
  stop();
  auto contacts = store::StateStore::open_read_only(dir.path() / "state")->contacts("acct1");
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].name, "Thandiwe");
}

TEST_F(Story, InboundOnARoutedTagGoesToItsConversation) {
  start(shipped_config(dir.path() / "state"));
  const std::string inbound = demo_events().at(1);
  publish_event(inbound);
  auto got = receive(1);
  ASSERT_EQ(got.size(), 1u) << daemon->process().output();
  EXPECT_EQ(got[0].first, "conversation.vxpolls.poll1");
  json::object expected = json::parse(inbound).as_object();
  expected["helper_metadata"].as_object()["go"] = json::object{
      {"user_account", "acct1"}, {"conversation_key", "poll1"}, {"conversation_type", "vxpolls"}};
  json::object body = got[0].second;
  body.erase("timestamp");  // the decoder adds one when the transport gave none
  EXPECT_EQ(body, expected);
  stop();
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  EXPECT_TRUE(store->inbox("acct1").empty());
  EXPECT_TRUE(store->dead_letters("").empty());
}

TEST_F(Story, InboundOnAnUnroutedTagIsKeptRepliedToAndAnnounced) {
  start(shipped_config(dir.path() / "state"));
  const std::string inbound = demo_events().at(2);
  publish_event(inbound);
  auto got = receive(2);
  ASSERT_EQ(got.size(), 2u) << daemon->process().output();
  std::map<std::string, json::object> by_topic(got.begin(), got.end());

  ASSERT_TRUE(by_topic.contains("outbound.sms_transport"));
  const json::object& reply = by_topic["outbound.sms_transport"];
  EXPECT_EQ(reply.at("content"), "Sorry, nothing is running on this number.");
  EXPECT_EQ(reply.at("in_reply_to"), "demo-in-2");
  EXPECT_EQ(reply.at("to_addr"), "+27825550101");
  EXPECT_EQ(reply.at("from_addr"), "67890");
  EXPECT_EQ(reply.at("transport_name"), "sms_transport");
  EXPECT_EQ(reply.at("helper_metadata").at("go").at("user_account"), "acct1");

  ASSERT_TRUE(by_topic.contains("event.acct1.transport.unrouted_message"));
  const json::object& announced = by_topic["event.acct1.transport.unrouted_message"];
  EXPECT_EQ(announced.at("event_data").at("message").at("message_id"), "demo-in-2");
  stop();

  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto inbox = store->inbox("acct1");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].message.at("message_id"), "demo-in-2");
  EXPECT_EQ(inbox[0].message.at("content"), "hello?");
  EXPECT_EQ(announced.at("event_data").at("inbox_id"), inbox[0].id);
  EXPECT_TRUE(store->dead_letters("").empty());
}

TEST_F(Story, InboundOnATagNoAccountOwnsIsADeadLetter) {
  start(shipped_config(dir.path() / "state"));
  std::string inbound = demo_events().at(2);
  replace_once(inbound, R"(["longcode", "67890"])", R"(["longcode", "11111"])");
  publish_event(inbound);
  ASSERT_TRUE(daemon->process().wait_for_line("dead letter: unowned_tag", 10s, &cursor))
      << daemon->process().output();
  stop();
  auto letters = store::StateStore::open_read_only(dir.path() / "state")->dead_letters("");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "unowned_tag");
}

// vumi-go parity: two routes on one conversation with different event types run only the matching
// chain; two handlers on one route both run, in order, each with its own config.
TEST_F(Story, OnlyTheMatchingRouteRunsAndEachStepHasItsOwnConfig) {
  std::string cfg = R"({
    "ingest": { "bind": "tcp://127.0.0.1:0" }, "outbound": { "bind": "tcp://127.0.0.1:*" },
    "state_dir": ")" +
                    (dir.path() / "state").string() + R"(",
    "plugin_path": [")" VUMI_PLUGIN_DIR R"("],
    "handlers": {
      "sms_a": { "type": "send_sms", "options": { "transport_name": "transport_a" } },
      "sms_b": { "type": "send_sms", "options": { "transport_name": "transport_b" } } },
    "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" }, "routes": [
      { "on": { "conversation_key": "poll1", "event_type": "poll_complete" },
        "chain": [ { "handler": "sms_a", "config": { "to_addr": "+27830000001", "content": "first" } },
                   { "handler": "sms_b", "config": { "to_addr": "+27830000002", "content": "second" } } ] },
      { "on": { "conversation_key": "poll1", "event_type": "opted_out" },
        "chain": [ { "handler": "sms_a", "config": { "to_addr": "+27830000003", "content": "wrong route" } } ] } ] } } })";
  start(cfg);
  publish_event(demo_events().at(0));
  // The sentinel: a second poll_complete (no event_id, so a distinct event). Events are handled in
  // order, so had the opted_out route run for the first one, "wrong route" would come before it.
  publish_event(demo_events().at(0));
  auto got = receive(4);
  ASSERT_EQ(got.size(), 4u);
  for (std::size_t i = 0; i < got.size(); i += 2) {
    EXPECT_EQ(got[i].first, "outbound.transport_a");
    EXPECT_EQ(got[i].second.at("content"), "first");
    EXPECT_EQ(got[i].second.at("to_addr"), "+27830000001");
    EXPECT_EQ(got[i + 1].first, "outbound.transport_b");
    EXPECT_EQ(got[i + 1].second.at("content"), "second");
  }
  stop();
}

// Issue 14 on the real daemon with config/vumi-go-survey.json: a vumi-go survey's survey_completed
// creates the contact from the participant's JSON-encoded labels and thanks them; the transport's
// ack comes back on transport_event.* and reaches the survey's conversation; the survey worker's
// reply on conversation_outbound.* goes out through the USSD pool's transport.
TEST_F(Story, AVumiGoSurveyRoundTripOverRealSockets) {
  start(testing::shipped_config("vumi-go-survey.json", dir.path() / "state"));
  ASSERT_TRUE(pub->wait_for_subscriptions({"transport_event.", "conversation_outbound."}, 10s));
  const std::string account = "73ad76ec8c2e40858dc9d6b934049d95";
  const std::string conversation = "a6a20571e77f4aa89a8b10a771b005bc";

  ASSERT_TRUE(pub->send(
      "event." + account + ".surveys.survey_completed",
      R"({"account_key": ")" + account + R"(", "conversation_key": ")" + conversation +
          R"(", "event_type": "survey_completed", "content": {"from_addr": "+27831234567", )"
          R"("message_id": "in-1", "transport_type": "ussd", "participant": )"
          R"({"user_id": "+27831234567", "labels": "{\"name\": \"Thandi\", \"favorite color\": \"2\"}", "polls": "[]"}}})"));
  auto sms = receive(1);
  ASSERT_EQ(sms.size(), 1u) << daemon->process().output();
  EXPECT_EQ(sms[0].first, "outbound.sms_transport");
  EXPECT_EQ(sms[0].second.at("content"), "Thanks Thandi!");
  const std::string sms_id(sms[0].second.at("message_id").as_string());

  const std::string ack = R"({"message_version": "20110921", "message_type": "event", "event_type": "ack", )"
                          R"("event_id": "e-1", "user_message_id": ")" +
                          sms_id + R"(", "sent_message_id": "smsc-1", "transport_name": "sms_transport"})";
  ASSERT_TRUE(pub->send("transport_event.sms_transport", ack));
  auto forwarded = receive(1);
  ASSERT_EQ(forwarded.size(), 1u) << daemon->process().output();
  EXPECT_EQ(forwarded[0].first, "conversation.surveys." + conversation);
  EXPECT_EQ(forwarded[0].second, json::parse(ack).as_object());

  ASSERT_TRUE(pub->send(
      "conversation_outbound.surveys." + conversation,
      R"({"message_id": "out-1", "to_addr": "+27831234567", "from_addr": "*120*10001#", )"
      R"("content": "Question 1?", "in_reply_to": null, "session_event": null, )"
      R"("message_type": "user_message", "helper_metadata": {"tag": {"tag": ["ussd_pool", "*120*10001#"]}}})"));
  auto reply = receive(1);
  ASSERT_EQ(reply.size(), 1u) << daemon->process().output();
  EXPECT_EQ(reply[0].first, "outbound.ussd_transport");
  EXPECT_EQ(reply[0].second.at("helper_metadata").at("go").at("conversation_key"), conversation.c_str());
  stop();

  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto contacts = store->contacts(account);
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].name, "Thandi");
  EXPECT_TRUE(store->dead_letters("").empty());
}

}  // namespace
}  // namespace vumi
