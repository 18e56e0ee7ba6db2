#include "dispatch/step_services.hpp"

#include "dispatch_fixture.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::testing_support {
namespace {

// Decoder account view: two accounts, each with conversation c1 of type t.
class TwoAccounts : public event::AccountDirectory {
 public:
  bool has_account(std::string_view a) const override { return a == "acct1" || a == "acct2"; }
  std::optional<std::string_view> conversation_type(std::string_view, std::string_view) const override {
    return "t";
  }
};

event::Envelope decode_event(const event::EnvelopeDecoder& decoder, std::string_view account) {
  std::string body = R"({"account_key":")" + std::string(account) +
                     R"(","conversation_key":"c1","conversation_type":"t","event_type":"e","event_data":{}})";
  auto decoded = decoder.decode("event." + std::string(account) + ".t.e", body);
  return std::move(std::get<event::Envelope>(decoded));
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
  dispatch::Account acct1;
  acct1.key = "acct1";
  acct1.conversations.emplace("poll1", "vxpolls");
  services.begin_event(decoder, one, acct1);
  services.begin_step("test");
  EXPECT_EQ(services.publish("outbound.sms_transport", R"({"content":"hi"})"), VUMI_OK);
  EXPECT_EQ(services.publish("conversation.vxpolls.poll1", R"({"content":"hi"})"), VUMI_OK);
  EXPECT_EQ(services.publish("event.acct1.t.e", R"({})"), VUMI_OK);
  EXPECT_EQ(services.publish("outbound.bad.topic", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("command.bulk", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("inbound.sms", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("conversation.vxpolls", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("event.acct1.t", R"({})"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("outbound.sms", "[1]"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services.publish("outbound.sms", "{oops"), VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(counters.published, 3u);
}

TEST_F(StepServices, AHandlerOfOneAccountCannotPublishIntoAnotherAccount) {
  TwoAccounts accounts;
  event::EnvelopeDecoder decoder({}, &accounts);
  event::Envelope one = decode_event(decoder, "acct1");
  dispatch::Account acct1, acct2;
  acct1.key = "acct1";
  acct1.conversations.emplace("poll1", "vxpolls");
  acct2.key = "acct2";
  acct2.conversations.emplace("pollB", "vxpolls");
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
