// Issue 14 end to end through the Dispatcher and the real plugins: vumi tags, tag pools, transport
// events, conversation outbound, vumi replies and byte-true forwarding. The fixtures are built field
// by field as vumi's vumi/message.py (TransportUserMessage, TransportEvent, reply()) and vumi-go's
// go/vumitools/api.py (VumiApiEvent) serialise them: json.dumps with ", " and ": " separators.
#include <gmock/gmock.h>

#include <boost/json.hpp>

#include "dispatch_fixture.hpp"

namespace vumi::testing_support {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;

struct RawMessage {
  std::string topic;
  std::string body;
  bj::object parsed() const { return bj::parse(body).as_object(); }
};

class RawSink : public dispatch::OutboundSink {
 public:
  void send(std::string_view topic, std::string_view body) override {
    sent.push_back({std::string(topic), std::string(body)});
  }
  std::vector<RawMessage> with_prefix(std::string_view prefix) const {
    std::vector<RawMessage> out;
    for (const auto& m : sent)
      if (std::string_view(m.topic).starts_with(prefix)) out.push_back(m);
    return out;
  }
  std::vector<RawMessage> sent;
};

// Every plugin of this build: the four, vumi_command and the SDK example (emit_event).
constexpr const char* kConfig = R"({
  "handlers": {
    "router":   { "type": "tag_router" },
    "fallback": { "type": "default_account_handler" },
    "sms":      { "type": "send_sms", "options": { "transport_name": "sms_transport" } },
    "contact":  { "type": "create_contact" },
    "emit":     { "type": "emit_event" }
  },
  "tag_pools": {
    "ussd":     { "transport_name": "ussd_transport", "transport_type": "ussd",
                  "reply_to_unroutable": "Sorry, this code is not in use." },
    "longcode": { "transport_name": "sms_transport", "transport_type": "sms" },
    "xmpp":     { "transport_name": "xmpp_transport", "transport_type": "xmpp", "reply_to_unroutable": null },
    "dotted":   { "transport_name": "sms_transport" }
  },
  "accounts": {
    "acct1": {
      "conversations": { "survey1": "surveys", "poll1": "vxpolls" },
      "tags": ["ussd:*120*10001#", "longcode:+27820001001", "xmpp:xmpp@example.org", "dotted:tag.name.v1"],
      "routes": [
        { "on": { "event_type": "inbound_message" },
          "chain": [ { "handler": "router", "config": { "routes": {
                         "ussd:*120*10001#": "survey1", "longcode:+27820001001": "survey1",
                         "xmpp:xmpp@example.org": "survey1", "dotted:tag.name.v1": "survey1" } } },
                     { "handler": "fallback" } ] },
        { "on": { "conversation_key": "poll1", "event_type": "poll_complete" },
          "chain": [ { "handler": "sms", "config": { "to_addr": "{{/event/event_data/from_addr}}",
                                                     "content": "Thanks!" } } ] },
        { "on": { "conversation_key": "poll1", "event_type": "ack" },
          "chain": [ { "handler": "emit", "config": { "event_type": "sms_acked",
              "event_data": { "message_id": "{{/event/event_data/user_message_id}}",
                              "sent_as": "{{/event/event_data/sent_message_id}}" } } } ] },
        { "on": { "conversation_key": "poll1", "event_type": "delivery_report" },
          "chain": [ { "handler": "emit", "config": { "event_type": "sms_delivered",
              "event_data": { "message_id": "{{/event/event_data/user_message_id}}",
                              "status": "{{/event/event_data/delivery_status}}" } } } ] } ] },
    "acct2": { "conversations": { "other1": "surveys" }, "tags": ["longcode:+27820009999"] }
  }
})";

// A TransportUserMessage from a transport, in vumi's field order and spelling.
std::string user_message(std::string_view message_id, std::string_view pool, std::string_view tag,
                         std::string_view transport, std::string_view transport_type,
                         std::string_view session_event = "null", std::string_view extra_metadata = "") {
  return std::string(R"({"transport_name": ")") + std::string(transport) +
         R"(", "transport_metadata": {"session_id": "s-1")" + std::string(extra_metadata) +
         R"(}, "group": null, "from_addr_type": "msisdn", "timestamp": "2026-12-02 05:00:00.000000", )"
         R"("provider": "mtn", "in_reply_to": null, "to_addr": ")" +
         std::string(tag) + R"(", "routing_metadata": {"endpoint_name": "default"}, "message_id": ")" +
         std::string(message_id) +
         R"(", "content": "hi", "to_addr_type": "msisdn", )"
         R"("message_version": "20110921", "transport_type": ")" +
         std::string(transport_type) + R"(", "helper_metadata": {"tag": {"tag": [")" + std::string(pool) +
         R"(", ")" + std::string(tag) + R"("]}}, "session_event": )" + std::string(session_event) +
         R"(, "message_type": "user_message", "from_addr": "+27831234567"})";
}

// A TransportEvent (ack, nack or delivery_report) about user_message_id.
std::string transport_event(std::string_view event_type, std::string_view user_message_id,
                            std::string_view extra) {
  return std::string(R"({"transport_name": "sms_transport", "event_type": ")") + std::string(event_type) +
         R"(", "event_id": "e-)" + std::string(event_type) +
         R"(", "timestamp": "2026-12-02 05:01:00.000000", )"
         R"("routing_metadata": {}, "message_version": "20110921", "helper_metadata": {}, )"
         R"("transport_metadata": {}, "user_message_id": ")" +
         std::string(user_message_id) + R"(", "message_type": "event", )" + std::string(extra) + "}";
}

class VumiGoTraffic : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::parse_config(kConfig, "test-config");
    ASSERT_TRUE(loaded.config.has_value());
    for (const auto& e : loaded.errors) ADD_FAILURE() << e.text();
    ASSERT_TRUE(loaded.errors.empty());
    loaded.config->plugin_path = {VUMI_PLUGIN_DIR};
    loaded.config->state.dir = dir.path();
    auto built = dispatch::Runtime::build(std::move(*loaded.config));
    if (!built)
      for (const auto& e : built.error()) ADD_FAILURE() << e.text();
    ASSERT_TRUE(built);
    runtime = std::move(built).value();
    store = store::StateStore::open(dir.path());
    dispatcher = std::make_unique<dispatch::Dispatcher>(runtime, *store, sink);
  }

  std::vector<store::DeadLetter> dead_letters() { return store->dead_letters(""); }

  // Sends the poll event whose route runs send_sms; returns the SMS's message_id.
  std::string send_poll_sms() {
    // A VumiApiEvent as vumi-go serialises it: no conversation_type, data in `content`.
    dispatcher->handle(
        "event.acct1.vxpolls.poll_complete",
        R"({"account_key": "acct1", "conversation_key": "poll1", "event_type": "poll_complete", )"
        R"("content": {"from_addr": "+27831234567"}})");
    auto sms = sink.with_prefix("outbound.sms_transport");
    if (sms.size() != 1) return "";
    return std::string(sms[0].parsed().at("message_id").as_string());
  }

  TempDir dir;
  RawSink sink;
  std::shared_ptr<const dispatch::Runtime> runtime;
  std::unique_ptr<store::StateStore> store;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
};

TEST_F(VumiGoTraffic, EveryTagFormIsRoutedToItsConversation) {
  struct Case {
    const char* pool;
    const char* tag;
    const char* transport;
    const char* type;
  };
  const Case cases[] = {{"ussd", "*120*10001#", "ussd_transport", "ussd"},
                        {"longcode", "+27820001001", "sms_transport", "sms"},
                        {"xmpp", "xmpp@example.org", "xmpp_transport", "xmpp"},
                        {"dotted", "tag.name.v1", "sms_transport", "sms"}};
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = "m" + std::to_string(++n);
    dispatcher->handle(std::string("inbound.") + c.transport,
                       user_message(id, c.pool, c.tag, c.transport, c.type));
    auto routed = sink.with_prefix("conversation.surveys.survey1");
    ASSERT_EQ(routed.size(), static_cast<std::size_t>(n)) << c.tag;
    const bj::object m = routed.back().parsed();
    EXPECT_EQ(m.at("message_id"), id.c_str());
    EXPECT_EQ(m.at("to_addr"), c.tag);
    const bj::object& go = m.at("helper_metadata").at("go").as_object();
    EXPECT_EQ(go.at("user_account"), "acct1");
    EXPECT_EQ(go.at("conversation_key"), "survey1");
  }
  for (const auto& letter : dead_letters()) ADD_FAILURE() << letter.reason << ": " << letter.message;
}

TEST_F(VumiGoTraffic, AckAndDeliveryReportReachTheSendingConversationAndTriggerRoutes) {
  const std::string sms_id = send_poll_sms();
  ASSERT_EQ(sms_id.size(), 32u);

  const std::string ack = transport_event("ack", sms_id, R"("sent_message_id": "smsc-77")");
  dispatcher->handle("transport_event.sms_transport", ack);
  const std::string report = transport_event("delivery_report", sms_id, R"("delivery_status": "delivered")");
  dispatcher->handle("transport_event.sms_transport", report);

  // vumi-go forwards the events to the conversation that sent the message, unchanged.
  auto forwarded = sink.with_prefix("conversation.vxpolls.poll1");
  ASSERT_EQ(forwarded.size(), 2u);
  EXPECT_EQ(forwarded[0].body, ack);
  EXPECT_EQ(forwarded[1].body, report);

  // ... and each is a routable event of that conversation.
  auto acked = sink.with_prefix("event.acct1.vxpolls.sms_acked");
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(acked[0].parsed().at("event_data"), (bj::object{{"message_id", sms_id}, {"sent_as", "smsc-77"}}));
  auto delivered = sink.with_prefix("event.acct1.vxpolls.sms_delivered");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].parsed().at("event_data"),
            (bj::object{{"message_id", sms_id}, {"status", "delivered"}}));
  // Published events are VumiApiEvent-shaped too: `content` carries the data.
  EXPECT_EQ(delivered[0].parsed().at("content"), delivered[0].parsed().at("event_data"));
  EXPECT_TRUE(dead_letters().empty());
}

TEST_F(VumiGoTraffic, ATransportEventForAnUnknownMessageIsADeadLetter) {
  dispatcher->handle("transport_event.sms_transport",
                     transport_event("nack", "never-sent", R"("nack_reason": "no route")"));
  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "unknown_message");
  EXPECT_THAT(letters[0].message, HasSubstr("\"never-sent\""));
  EXPECT_TRUE(sink.with_prefix("conversation.").empty());
}

TEST_F(VumiGoTraffic, AConversationReplyGoesOutOnThePoolTransportAndNeverReenters) {
  const std::string inbound =
      user_message("in-1", "ussd", "*120*10001#", "ussd_transport", "ussd", R"("new")");
  dispatcher->handle("inbound.ussd_transport", inbound);
  ASSERT_EQ(sink.with_prefix("conversation.surveys.survey1").size(), 1u);

  // The survey worker's reply(): addresses swapped, in_reply_to set, helper_metadata copied (so it
  // names the tag), session closed.
  const std::string reply =
      R"({"transport_name": "ussd_transport", "transport_metadata": {"session_id": "s-1"}, "group": null, )"
      R"("from_addr_type": "msisdn", "timestamp": "2026-12-02 05:00:01.000000", "provider": "mtn", )"
      R"("in_reply_to": "in-1", "to_addr": "+27831234567", "routing_metadata": {"endpoint_name": "default"}, )"
      R"("message_id": "out-1", "content": "Question 1?", "to_addr_type": "msisdn", )"
      R"("message_version": "20110921", "transport_type": "ussd", )"
      R"("helper_metadata": {"tag": {"tag": ["ussd", "*120*10001#"]}}, "session_event": "close", )"
      R"("message_type": "user_message", "from_addr": "*120*10001#"})";
  dispatcher->handle("conversation_outbound.surveys.survey1", reply);
  // A reply that names only the message it answers finds the tag through the ledger.
  std::string bare = reply;
  bare.replace(bare.find(R"({"tag": {"tag": ["ussd", "*120*10001#"]}})"),
               std::string(R"({"tag": {"tag": ["ussd", "*120*10001#"]}})").size(), "{}");
  bare.replace(bare.find("out-1"), 5, "out-2");
  dispatcher->handle("conversation_outbound.surveys.survey1", bare);

  auto sent = sink.with_prefix("outbound.");
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& m : sent) {
    EXPECT_EQ(m.topic, "outbound.ussd_transport");
    const bj::object body = m.parsed();
    EXPECT_EQ(body.at("helper_metadata").at("tag").at("tag"), (bj::array{"ussd", "*120*10001#"}));
    const bj::object& go = body.at("helper_metadata").at("go").as_object();
    EXPECT_EQ(go.at("user_account"), "acct1");
    EXPECT_EQ(go.at("conversation_type"), "surveys");
    EXPECT_EQ(go.at("conversation_key"), "survey1");
    EXPECT_EQ(body.at("session_event"), "close");
    EXPECT_EQ(body.at("transport_name"), "ussd_transport");
  }
  EXPECT_EQ(sent[0].parsed().at("message_id"), "out-1");
  EXPECT_EQ(sent[1].parsed().at("message_id"), "out-2");

  // Sentinel: a later inbound message is routed; had the replies re-entered, they would be before it.
  dispatcher->handle("inbound.sms_transport",
                     user_message("in-2", "longcode", "+27820001001", "sms_transport", "sms"));
  auto routed = sink.with_prefix("conversation.");
  ASSERT_EQ(routed.size(), 2u);
  EXPECT_EQ(routed[0].parsed().at("message_id"), "in-1");
  EXPECT_EQ(routed[1].parsed().at("message_id"), "in-2");
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_EQ(sink.with_prefix("event.").size(), 0u);
}

TEST_F(VumiGoTraffic, AConversationCannotSendOnAnotherAccountsTag) {
  const std::string message =
      R"({"message_id": "out-9", "to_addr": "+27831234567", "from_addr": null, "content": "hi", )"
      R"("in_reply_to": null, "session_event": null, "message_type": "user_message", )"
      R"("helper_metadata": {"tag": {"tag": ["longcode", "+27820009999"]}}})";
  dispatcher->handle("conversation_outbound.surveys.survey1", message);
  dispatcher->handle("conversation_outbound.surveys.nobody", message);
  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].reason, "unowned_tag");
  EXPECT_THAT(letters[0].message, HasSubstr("\"longcode:+27820009999\""));
  EXPECT_EQ(letters[1].reason, "unknown_conversation");
  EXPECT_TRUE(sink.with_prefix("outbound.").empty());
}

TEST_F(VumiGoTraffic, AnUnownedTagGetsThePoolsReplyAsVumiReplyMakesIt) {
  const std::string inbound = user_message("in-7", "ussd", "*120*99#", "ussd_transport", "ussd", R"("new")");
  dispatcher->handle("inbound.ussd_transport", inbound);

  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "unowned_tag");
  auto sent = sink.with_prefix("outbound.");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "outbound.ussd_transport");
  bj::object reply = sent[0].parsed();
  EXPECT_EQ(reply.at("message_id").as_string().size(), 32u);
  EXPECT_FALSE(reply.at("timestamp").as_string().empty());
  reply.erase("message_id");
  reply.erase("timestamp");
  // reply(content, continue_session=False), field by field from vumi/message.py.
  const bj::object expected{
      {"message_version", "20110921"},
      {"message_type", "user_message"},
      {"routing_metadata", bj::object{{"endpoint_name", "default"}}},
      {"helper_metadata", bj::object{{"tag", bj::object{{"tag", bj::array{"ussd", "*120*99#"}}}}}},
      {"in_reply_to", "in-7"},
      {"provider", "mtn"},
      {"session_event", "close"},
      {"content", "Sorry, this code is not in use."},
      {"transport_metadata", bj::object{{"session_id", "s-1"}}},
      {"group", nullptr},
      {"to_addr_type", "msisdn"},
      {"from_addr_type", "msisdn"},
      {"to_addr", "+27831234567"},
      {"from_addr", "*120*99#"},
      {"transport_name", "ussd_transport"},
      {"transport_type", "ussd"},
  };
  EXPECT_EQ(reply, expected) << sent[0].body;

  // A pool without reply_to_unroutable (null) answers nothing; the dead letter is still kept.
  dispatcher->handle("inbound.xmpp_transport",
                     user_message("in-8", "xmpp", "nobody@example.org", "xmpp_transport", "xmpp"));
  // The second unowned_tag from the same source coalesces into the first dead letter's row.
  EXPECT_EQ(dead_letters().size(), 1u);
  EXPECT_EQ(sink.with_prefix("outbound.").size(), 1u);
}

TEST_F(VumiGoTraffic, AForwardedMessageKeepsEveryByteButHelperMetadataGo) {
  // 2**70 and 0.05 where Boost.JSON would write 1.1805916207174112E21 and 5E-2.
  const std::string inbound = user_message("in-5", "longcode", "+27820001001", "sms_transport", "sms", "null",
                                           R"(, "big": 1180591620717411303424, "ratio": 0.05, "tiny": 1e-7)");
  dispatcher->handle("inbound.sms_transport", inbound);
  auto routed = sink.with_prefix("conversation.surveys.survey1");
  ASSERT_EQ(routed.size(), 1u);

  const std::string old_helper = R"({"tag": {"tag": ["longcode", "+27820001001"]}})";
  std::string expected = inbound;
  expected.replace(expected.find(old_helper), old_helper.size(),
                   R"({"tag": {"tag": ["longcode", "+27820001001"]}, "go": {"user_account":"acct1",)"
                   R"("conversation_key":"survey1","conversation_type":"surveys"}})");
  EXPECT_EQ(routed[0].body, expected);
}

}  // namespace
}  // namespace vumi::testing_support

namespace vumi::testing_support {
namespace {

// config/vumi-go-survey.json with a real survey_completed event, as vumi-go's SurveyApplication
// triggers it: VumiApiEvent.event(account_key, conversation_key, "survey_completed", content).
TEST(VumiGoSurveyConfig, ARealSurveyCompletedCreatesTheContactFromTheParticipantsLabels) {
  TempDir dir;
  auto loaded = config::load_config_file(VUMI_SOURCE_DIR "/config/vumi-go-survey.json");
  ASSERT_TRUE(loaded.config.has_value());
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.text();
  loaded.config->plugin_path = {VUMI_PLUGIN_DIR};
  loaded.config->state.dir = dir.path();
  auto built = dispatch::Runtime::build(std::move(*loaded.config));
  if (!built)
    for (const auto& e : built.error()) ADD_FAILURE() << e.text();
  ASSERT_TRUE(built);
  const auto runtime = std::move(built).value();
  auto store = store::StateStore::open(dir.path());
  RawSink sink;
  dispatch::Dispatcher dispatcher(runtime, *store, sink);

  // participant.dump(): labels, polls and sent_messages are JSON-encoded strings.
  const std::string event =
      R"({"account_key": "73ad76ec8c2e40858dc9d6b934049d95", )"
      R"("conversation_key": "a6a20571e77f4aa89a8b10a771b005bc", "event_type": "survey_completed", )"
      R"("content": {"from_addr": "+27831234567", "message_id": "5f2b8e0c9d1a4b7e8f3c2d1e0a9b8c7d", )"
      R"("transport_type": "ussd", "participant": {"user_id": "+27831234567", "age": null, )"
      R"("has_unanswered_question": false, "last_interaction_time": "1354512345", "interactions": 3, )"
      R"("opted_in": true, "retries": 0, "force_archive": false, )"
      R"("polls": "[\"poll-a6a20571e77f4aa89a8b10a771b005bc\"]", )"
      R"("labels": "{\"name\": \"Thandi\", \"favorite color\": \"2\"}", )"
      R"("sent_messages": "[\"What is your name?\", \"What is your favorite color?\"]"}}})";
  dispatcher.handle("event.73ad76ec8c2e40858dc9d6b934049d95.surveys.survey_completed", event);

  for (const auto& letter : store->dead_letters("")) ADD_FAILURE() << letter.reason << ": " << letter.message;
  auto contacts = store->contacts("73ad76ec8c2e40858dc9d6b934049d95");
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].msisdn, "+27831234567");
  EXPECT_EQ(contacts[0].name, "Thandi");
  EXPECT_EQ(contacts[0].extra.at("favorite_color"), "2");
  auto sms = sink.with_prefix("outbound.sms_transport");
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(sms[0].parsed().at("content"), "Thanks Thandi!");
}

}  // namespace
}  // namespace vumi::testing_support
