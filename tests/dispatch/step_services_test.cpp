#include "dispatch/step_services.hpp"

#include "dispatch_fixture.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::testing_support {
namespace {

event::Envelope decode_event(const event::EnvelopeDecoder& decoder, std::string_view account) {
  std::string body = R"({"account_key":")" + std::string(account) +
                     R"(","conversation_key":"c1","conversation_type":"t","event_type":"e","event_data":{}})";
  auto decoded = decoder.decode("event." + std::string(account) + ".t.e", body);
  return std::get<event::Envelope>(std::move(decoded).value());
}

// Step services over a temporary store and a recording outbound sink.
class StepServices : public ::testing::Test {
 protected:
  TempDir dir;
  std::unique_ptr<store::StateStore> store = store::StateStore::open(dir.path());
  RecordingSink sink;
  dispatch::Counters counters;
  std::deque<event::Envelope> emitted;
  dispatch::StepServices services{*store, sink, counters, emitted};
};

TEST_F(StepServices, ContactsAreScopedToTheEventsAccount) {
  TwoAccounts accounts;
  event::EnvelopeDecoder decoder({}, &accounts);
  event::Envelope one = decode_event(decoder, "acct1");
  event::Envelope two = decode_event(decoder, "acct2");
  dispatch::Account acct1, acct2;
  acct1.key = "acct1";
  acct2.key = "acct2";

  services.begin_event(decoder, one, acct1);
  services.begin_step("test");
  vumi_view out{};
  int created = 0;
  ASSERT_EQ(services.contact_upsert(R"({"msisdn":"+27831234567","name":"Ann"})", &out, &created), VUMI_OK);
  EXPECT_EQ(created, 1);
  auto stored = boost::json::parse(std::string_view(out.data, out.size));
  std::string key(stored.at("contact_key").as_string());

  services.begin_event(decoder, two, acct2);
  services.begin_step("test");
  EXPECT_EQ(services.contact_find_by_msisdn("+27831234567", &out), VUMI_ERR_NOT_FOUND);
  EXPECT_EQ(services.contact_get(key, &out), VUMI_ERR_NOT_FOUND);
  // The same msisdn in another account is another contact; acct1's is untouched.
  ASSERT_EQ(services.contact_upsert(R"({"msisdn":"+27831234567","name":"Bob"})", &out, &created), VUMI_OK);
  EXPECT_EQ(created, 1);

  services.begin_event(decoder, one, acct1);
  services.begin_step("test");
  ASSERT_EQ(services.contact_get(key, &out), VUMI_OK);
  EXPECT_EQ(boost::json::parse(std::string_view(out.data, out.size)).at("name"), "Ann");
}

TEST_F(StepServices, PublishAcceptsOnlyOutboundAndTheAccountsOwnTopicsWithObjectBodies) {
  TwoAccounts accounts;
  event::EnvelopeDecoder decoder({}, &accounts);
  event::Envelope one = decode_event(decoder, "acct1");
  const config::Conversations conversations{{"poll1", "vxpolls"}};
  dispatch::Account acct1;
  acct1.key = "acct1";
  acct1.conversations = &conversations;
  services.begin_event(decoder, one, acct1);
  services.begin_step("test");
  EXPECT_EQ(services.publish("outbound.sms_transport", R"({"content":"hi"})"), VUMI_OK);
  EXPECT_EQ(services.publish("conversation.vxpolls.poll1", R"({"content":"hi"})"), VUMI_OK);
  EXPECT_EQ(services.publish("event.acct1.t.e", R"({})"), VUMI_OK);
  EXPECT_EQ(services.publish("outbound.bad.topic", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("command.bulk", R"({})"), VUMI_OK);  // a VumiApiCommand (vumi_command)
  EXPECT_EQ(services.publish("inbound.sms", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("conversation.vxpolls", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("event.acct1.t", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("outbound.sms", "[1]"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("outbound.sms", "{oops"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(counters.published, 4u);
}

TEST_F(StepServices, AHandlerOfOneAccountCannotPublishIntoAnotherAccount) {
  TwoAccounts accounts;
  event::EnvelopeDecoder decoder({}, &accounts);
  event::Envelope one = decode_event(decoder, "acct1");
  const config::Conversations conversations1{{"poll1", "vxpolls"}}, conversations2{{"pollB", "vxpolls"}};
  dispatch::Account acct1, acct2;
  acct1.key = "acct1";
  acct1.conversations = &conversations1;
  acct2.key = "acct2";
  acct2.conversations = &conversations2;
  services.begin_event(decoder, one, acct1);
  services.begin_step("test");
  // acct2's conversation, acct2's events, and a conversation of acct1's with the wrong type.
  EXPECT_EQ(services.publish("conversation.vxpolls.pollB", R"({"content":"hi"})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("event.acct2.vxpolls.poll_complete", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("conversation.survey.poll1", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  // Sentinel: the account's own conversation still works, and is the only thing sent.
  EXPECT_EQ(services.publish("conversation.vxpolls.poll1", R"({"content":"sentinel"})"), VUMI_OK);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].topic, "conversation.vxpolls.poll1");

  // The same handler running for acct2 reaches acct2's conversation and not acct1's.
  event::Envelope two = decode_event(decoder, "acct2");
  services.begin_event(decoder, two, acct2);
  services.begin_step("test");
  EXPECT_EQ(services.publish("conversation.vxpolls.pollB", R"({})"), VUMI_OK);
  EXPECT_EQ(services.publish("conversation.vxpolls.poll1", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sink.sent.size(), 2u);
}

TEST_F(StepServices, OutsideAnEventOnlyOutboundTopicsArePublishable) {
  EXPECT_EQ(services.publish("outbound.sms_transport", R"({})"), VUMI_OK);
  EXPECT_EQ(services.publish("conversation.vxpolls.poll1", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("event.acct1.t.e", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sink.sent.size(), 1u);
}

TEST_F(StepServices, AccountServicesAreUnavailableOutsideAnEvent) {
  vumi_view out{};
  std::int64_t id = 0;
  EXPECT_EQ(services.contact_find_by_msisdn("+2783", &out), VUMI_ERR_UNAVAILABLE);
  EXPECT_EQ(services.inbox_put("{}", &id), VUMI_ERR_UNAVAILABLE);
  EXPECT_EQ(services.event_json(&out), VUMI_ERR_UNAVAILABLE);
}

}  // namespace
}  // namespace vumi::testing_support

namespace vumi::testing_support {
namespace {

// Ids a step draws are derived from event id, route, step and call number: a replay of the same
// event yields the same ids, and anything else a different one.
TEST_F(StepServices, NewIdIsDerivedFromEventRouteStepAndCallNumber) {
  TwoAccounts accounts;
  event::EnvelopeDecoder decoder({}, &accounts);
  dispatch::Account acct1;
  acct1.key = "acct1";
  auto draw = [&](const event::Envelope& event, std::size_t route, std::size_t step, int calls) {
    services.begin_event(decoder, event, acct1);
    services.begin_step("test", route, step);
    std::vector<std::string> ids;
    for (int i = 0; i < calls; ++i) {
      char out[33] = {};
      EXPECT_TRUE(services.new_id(out));
      ids.emplace_back(out, 32);
    }
    return ids;
  };
  auto decode_with_id = [&](const char* id) {
    std::string body =
        std::string(R"({"account_key":"acct1","conversation_key":"c1","conversation_type":"t",)") +
        R"("event_type":"e","event_data":{},"event_id":")" + id + R"("})";
    return std::get<event::Envelope>(decoder.decode("event.acct1.t.e", body).value());
  };
  event::Envelope event = decode_with_id("ev-1");
  const auto first = draw(event, 0, 1, 2);
  EXPECT_NE(first[0], first[1]);  // two calls in one step
  EXPECT_EQ(first[0].find_first_not_of("0123456789abcdef"), std::string::npos);
  event::Envelope replay = decode_with_id("ev-1");
  EXPECT_EQ(draw(replay, 0, 1, 2), first);       // the same event again
  EXPECT_NE(draw(event, 0, 2, 1)[0], first[0]);  // another step
  EXPECT_NE(draw(event, 1, 1, 1)[0], first[0]);  // another route
  event::Envelope other = decode_with_id("ev-2");
  EXPECT_NE(draw(other, 0, 1, 1)[0], first[0]);  // another event
}

TEST_F(StepServices, EmittedEventIdsAreDerivedToo) {
  TwoAccounts accounts;
  event::EnvelopeDecoder decoder({}, &accounts);
  dispatch::Account acct1;
  acct1.key = "acct1";
  event::Envelope event = std::get<event::Envelope>(
      decoder
          .decode(
              "event.acct1.t.e",
              R"({"account_key":"acct1","conversation_key":"c1","conversation_type":"t","event_type":"e","event_data":{},"event_id":"ev-1"})")
          .value());
  for (int run = 0; run < 2; ++run) {
    services.begin_event(decoder, event, acct1);
    services.begin_step("test", 0, 0);
    ASSERT_EQ(services.emit_event(R"({"event_type":"child"})"), VUMI_OK);
  }
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[0].event_id, emitted[1].event_id);
  EXPECT_NE(emitted[0].event_id, "ev-1");
}

}  // namespace
}  // namespace vumi::testing_support
