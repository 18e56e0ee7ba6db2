// Events the host builds itself: those a handler emits and the inbound_message event of a user message.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <set>
#include <string>

#include "decoder_fixtures.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::event {
namespace {

using testing::FakeAccounts;
using testing::kPollTopic;
using testing::poll_body;
using testing::rejection_of;
using testing::take;

class DerivedEventsTest : public ::testing::Test {
 protected:
  FakeAccounts accounts;
  EnvelopeDecoder decoder{DecodeLimits{}, &accounts};
  Envelope parent = take<Envelope>(decoder.decode(kPollTopic, poll_body()));

  Envelope emit(std::string_view json) { return take<Envelope>(decoder.make_emitted(parent, json)); }
  Rejection refuse(std::string_view json) { return rejection_of(decoder.make_emitted(parent, json)); }
};

TEST_F(DerivedEventsTest, EmittedEventInheritsFromTheParent) {
  Envelope e = emit(R"({"event_type":"contact_created","event_data":{"msisdn":"+2783"}})");
  EXPECT_EQ(e.account_key, "acct1");
  EXPECT_EQ(e.conversation_key, "poll1");
  EXPECT_EQ(e.conversation_type, "vxpolls");
  EXPECT_EQ(e.event_type, "contact_created");
  EXPECT_EQ(e.event_data().at("msisdn"), "+2783");
  EXPECT_EQ(e.depth, 1u);
  EXPECT_EQ(e.body().at("depth"), 1);
  EXPECT_EQ(e.body().at("causation_id"), "ev1");
  EXPECT_TRUE(std::regex_match(std::string(e.event_id), std::regex("[0-9a-f]{32}")));
  EXPECT_TRUE(e.body().at("timestamp").is_string());
  std::set<std::string> keys;
  for (const auto& m : e.body().as_object()) keys.emplace(m.key());
  EXPECT_EQ(keys, (std::set<std::string>{"account_key", "conversation_key", "conversation_type", "event_type",
                                         "event_data", "event_id", "timestamp", "causation_id", "depth"}));
}

TEST_F(DerivedEventsTest, DepthGrowsAlongAChain) {
  Envelope child = emit(R"({"event_type":"a"})");
  Envelope grandchild = take<Envelope>(decoder.make_emitted(child, R"({"event_type":"b"})"));
  EXPECT_EQ(grandchild.depth, 2u);
  EXPECT_EQ(grandchild.body().at("causation_id").as_string(), child.event_id);
}

TEST_F(DerivedEventsTest, EventDataDefaultsToAnEmptyObject) {
  Envelope e = emit(R"({"event_type":"unrouted_message"})");
  EXPECT_TRUE(e.event_data().empty());
}

TEST_F(DerivedEventsTest, ConversationCanBeChosen) {
  Envelope other = emit(R"({"event_type":"x","conversation_key":"survey1"})");
  EXPECT_EQ(other.conversation_key, "survey1");
  EXPECT_EQ(other.conversation_type, "surveys");  // declared type of that conversation
  Envelope explicit_type = emit(R"({"event_type":"x","conversation_key":"c7","conversation_type":"bulk"})");
  EXPECT_EQ(explicit_type.conversation_type, "bulk");
  Envelope undeclared = emit(R"({"event_type":"x","conversation_key":"c7"})");
  EXPECT_EQ(undeclared.conversation_type, "vxpolls");  // falls back to the parent's
}

TEST_F(DerivedEventsTest, AccountIsForcedToTheParents) {
  EXPECT_EQ(emit(R"({"event_type":"x","account_key":"acct1"})").account_key, "acct1");
  Rejection r = refuse(R"({"event_type":"x","account_key":"acct2"})");
  EXPECT_EQ(r.text(),
            "unknown_account: account_key \"acct2\": a handler can only emit events for its own account "
            "\"acct1\"");
  EXPECT_EQ(refuse(R"({"event_type":"x","account_key":2})").reason, Reason::wrong_type);
}

TEST_F(DerivedEventsTest, EventIdAndDepthFromThePluginAreIgnored) {
  Envelope e = emit(R"({"event_type":"x","event_id":"mine","depth":0,"causation_id":"fake"})");
  EXPECT_NE(e.event_id, "mine");
  EXPECT_EQ(e.depth, 1u);
  EXPECT_EQ(e.body().at("causation_id"), "ev1");
}

TEST_F(DerivedEventsTest, EmittedEventsAreValidatedLikeWorkerEvents) {
  EXPECT_EQ(refuse(R"({"event_data":{}})").text(), "missing_field: event_type");
  EXPECT_EQ(refuse(R"({"event_type":"a.b"})").reason, Reason::bad_identifier);
  EXPECT_EQ(refuse(R"({"event_type":"x","event_data":[]})").text(),
            "wrong_type: event_data must be an object, got array");
  EXPECT_EQ(refuse(R"({"event_type":"x","conversation_key":""})").reason, Reason::bad_identifier);
  EXPECT_EQ(refuse(R"({"event_type":"x","x":1,"x":2})").reason, Reason::duplicate_key);
  EXPECT_EQ(refuse("[]").text(), "not_object: the emitted event must be a JSON object, got array");
  EXPECT_EQ(refuse("").reason, Reason::bad_frames);
  EXPECT_EQ(refuse("{\"event_type\":\"x\"").reason, Reason::invalid_json);
}

TEST_F(DerivedEventsTest, EmittedEventOutlivesItsParentAndInput) {
  Envelope e;
  {
    Envelope short_lived = take<Envelope>(decoder.decode(kPollTopic, poll_body()));
    std::string json = R"({"event_type":"later"})";
    e = take<Envelope>(decoder.make_emitted(short_lived, json));
    json.assign(json.size(), 'X');
  }
  EXPECT_EQ(e.account_key, "acct1");
  EXPECT_EQ(e.conversation_key, "poll1");
  EXPECT_EQ(e.event_type, "later");
  EXPECT_EQ(e.body().at("causation_id"), "ev1");
}

std::string user_message(const std::string& message_id) {
  return R"({"message_id":)" + message_id +
         R"(,"to_addr":"12345","from_addr":"+2783","content":"hi","transport_name":"sms",)"
         R"("helper_metadata":{"tag":{"tag":["longcode","12345"]}}})";
}

TEST_F(DerivedEventsTest, InboundEventWrapsTheMessage) {
  std::string text = user_message("\"msg-42\"");
  InboundMessage m = take<InboundMessage>(decoder.decode("inbound.sms", text));
  Envelope e = decoder.make_inbound_event("acct1", std::move(m));
  EXPECT_EQ(e.account_key, "acct1");
  EXPECT_EQ(e.conversation_type, "transport");
  EXPECT_EQ(e.conversation_key, "longcode:12345");
  EXPECT_EQ(e.event_type, "inbound_message");
  EXPECT_EQ(e.event_id, "msg-42");
  EXPECT_EQ(e.depth, 0u);
  EXPECT_EQ(boost::json::value(e.event_data()), boost::json::parse(text));
  EXPECT_TRUE(e.body().at("timestamp").is_string());
  EXPECT_EQ(e.body().as_object().size(), 7u);
}

TEST_F(DerivedEventsTest, InboundEventGetsAFreshIdWhenTheMessageIdIsNotAnIdentifier) {
  InboundMessage m = take<InboundMessage>(decoder.decode("inbound.sms", user_message("\"a b/c\"")));
  Envelope e = decoder.make_inbound_event("acct1", std::move(m));
  EXPECT_TRUE(std::regex_match(std::string(e.event_id), std::regex("[0-9a-f]{32}"))) << e.event_id;
  EXPECT_EQ(e.event_data().at("message_id"), "a b/c");
}

TEST_F(DerivedEventsTest, InboundEventOutlivesTheAccountKeyBuffer) {
  InboundMessage m = take<InboundMessage>(decoder.decode("inbound.sms", user_message("\"m1\"")));
  Envelope e;
  {
    std::string account = "acct1";
    e = decoder.make_inbound_event(account, std::move(m));
    account.assign(account.size(), 'X');
  }
  Envelope moved(std::move(e));
  EXPECT_EQ(moved.account_key, "acct1");
  EXPECT_EQ(moved.conversation_key, "longcode:12345");
}

}  // namespace
}  // namespace vumi::event
