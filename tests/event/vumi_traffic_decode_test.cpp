// Decoding transport events (transport_event.<transport_name>) and conversations' outbound
// messages (conversation_outbound.<conversation_type>.<conversation_key>).
#include <gtest/gtest.h>

#include "decoder_fixtures.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::event {
namespace {

using testing::FakeAccounts;
using testing::rejection_of;
using testing::take;

// vumi's TransportEvent.to_json(), ack form.
std::string ack(std::string extra = R"("sent_message_id": "smsc-1")") {
  return R"({"message_version": "20110921", "message_type": "event", "event_type": "ack", "event_id": "e1", )"
         R"("user_message_id": "m1", "timestamp": "2026-12-02 05:00:00.000000", "routing_metadata": {}, )"
         R"("helper_metadata": {}, "transport_name": "sms", )" +
         extra + "}";
}

class TrafficDecodeTest : public ::testing::Test {
 protected:
  FakeAccounts accounts;
  EnvelopeDecoder decoder{DecodeLimits{}, &accounts};
};

TEST_F(TrafficDecodeTest, ATransportEventKeepsItsBodyAndNamesItsMessage) {
  const std::string body = ack();
  TransportEvent e = take<TransportEvent>(decoder.decode("transport_event.sms", body));
  EXPECT_EQ(e.user_message_id, "m1");
  EXPECT_EQ(e.event_type, "ack");
  EXPECT_EQ(e.transport_name, "sms");
  EXPECT_EQ(e.raw, body);

  Envelope routed = decoder.make_transport_event("acct1", "vxpolls", "poll1", std::move(e));
  EXPECT_EQ(routed.event_type, "ack");
  EXPECT_EQ(routed.event_id, "e1");
  EXPECT_EQ(routed.conversation_key, "poll1");
  EXPECT_EQ(routed.event_data().at("sent_message_id"), "smsc-1");
  EXPECT_EQ(routed.raw_event_data, body);
}

TEST_F(TrafficDecodeTest, TransportEventsAreCheckedAsVumiDoes) {
  auto reject = [&](const std::string& body) {
    return rejection_of(decoder.decode("transport_event.sms", body)).text();
  };
  EXPECT_EQ(reject(R"({"message_type": "user_message"})"),
            "wrong_type: message_type is \"user_message\"; a transport event has \"event\"");
  EXPECT_EQ(reject(R"({"message_type": "event", "event_id": "e", "event_type": "ack"})"),
            "missing_field: user_message_id");
  EXPECT_EQ(reject(ack("\"x\": 1")), "missing_field: sent_message_id");
  EXPECT_EQ(
      reject(R"({"message_type": "event", "user_message_id": "m", "event_id": "e", "event_type": "bounce"})"),
      "bad_identifier: event_type \"bounce\" is not a transport event (ack, nack or delivery_report)");
  EXPECT_EQ(rejection_of(decoder.decode("transport_event.other", ack())).reason, Reason::topic_mismatch);
  EXPECT_EQ(rejection_of(decoder.decode("transport_event.a.b", ack())).reason, Reason::bad_topic);
}

TEST_F(TrafficDecodeTest, AConversationsOutboundMessage) {
  const std::string body = R"({"message_id": "out-1", "to_addr": "+2783", "content": "hi",)"
                           R"( "message_type": "user_message", "in_reply_to": "in-1"})";
  ConversationOutbound m =
      take<ConversationOutbound>(decoder.decode("conversation_outbound.surveys.s1", body));
  EXPECT_EQ(m.conversation_type, "surveys");
  EXPECT_EQ(m.conversation_key, "s1");
  EXPECT_EQ(m.raw, body);
  EXPECT_EQ(rejection_of(decoder.decode("conversation_outbound.surveys.s1", R"({"to_addr": null})")).text(),
            "missing_field: message_id");
  EXPECT_EQ(rejection_of(decoder.decode("conversation_outbound.surveys", body)).reason, Reason::bad_topic);
  EXPECT_EQ(rejection_of(decoder.decode("conversation_outbound.surveys.s1",
                                        R"({"message_id": "m", "to_addr": "1", "message_type": "event"})"))
                .reason,
            Reason::wrong_type);
}

}  // namespace
}  // namespace vumi::event
