// Decoding inbound user messages (inbound.<transport_name>) and commands (command.<worker_name>).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <string>

#include "decoder_fixtures.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::event {
namespace {

using testing::FakeAccounts;
using testing::rejection_of;
using testing::take;

std::string user_message(const std::string& tag_json = R"(["longcode","12345"])",
                         const std::string& extra = R"("transport_name":"sms",)") {
  return R"({"message_version":"20110921","message_type":"user_message","message_id":"m-1",)" + extra +
         R"("to_addr":"12345","from_addr":"+27831234567","content":"hi","session_event":null,)"
         R"("helper_metadata":{"tag":{"tag":)" +
         tag_json + "}}}";
}

class InboundTest : public ::testing::Test {
 protected:
  FakeAccounts accounts;
  EnvelopeDecoder decoder{DecodeLimits{}, &accounts};

  Rejection reject(std::string_view body) { return rejection_of(decoder.decode("inbound.sms", body)); }
};

TEST_F(InboundTest, DecodesTheTagAndKeepsTheBody) {
  std::string body = user_message();
  InboundMessage m = take<InboundMessage>(decoder.decode("inbound.sms", body));
  EXPECT_EQ(m.tag, "longcode:12345");
  EXPECT_EQ(m.transport_name, "sms");
  EXPECT_EQ(m.body, boost::json::parse(body));
}

TEST_F(InboundTest, TransportNameComesFromTheTopicWhenAbsent) {
  InboundMessage m;
  {
    auto topic = std::make_unique<std::string>("inbound.sms_transport");
    m = take<InboundMessage>(decoder.decode(*topic, user_message(R"(["pool","tag"])", "")));
    topic->assign(topic->size(), 'X');
  }
  InboundMessage moved(std::move(m));
  EXPECT_EQ(moved.transport_name, "sms_transport");
  EXPECT_EQ(moved.body.at("transport_name"), "sms_transport");
}

TEST_F(InboundTest, TransportNameMustMatchTheTopic) {
  EXPECT_EQ(rejection_of(decoder.decode("inbound.ussd", user_message())).text(),
            "topic_mismatch: topic says transport_name \"ussd\", body says \"sms\"");
  EXPECT_EQ(reject(user_message(R"(["p","t"])", R"("transport_name":3,)")).reason, Reason::wrong_type);
}

TEST_F(InboundTest, MissingTag) {
  EXPECT_EQ(reject(R"({"message_id":"m","to_addr":"1","from_addr":"2"})").text(),
            "missing_field: helper_metadata.tag.tag");
  EXPECT_EQ(reject(R"({"message_id":"m","to_addr":"1","from_addr":"2","helper_metadata":{}})").text(),
            "missing_field: helper_metadata.tag.tag");
  EXPECT_EQ(reject(R"({"message_id":"m","to_addr":"1","from_addr":"2","helper_metadata":{"tag":{}}})").text(),
            "missing_field: helper_metadata.tag.tag");
}

TEST_F(InboundTest, MalformedTags) {
  EXPECT_EQ(reject(user_message(R"("longcode:12345")")).text(),
            "wrong_type: helper_metadata.tag.tag must be an array [pool, tag], got string");
  EXPECT_EQ(reject(user_message(R"(["a","b","c"])")).text(),
            "wrong_type: helper_metadata.tag.tag must be an array [pool, tag], got array of 3 elements");
  EXPECT_EQ(reject(user_message(R"(["a",5])")).text(),
            "wrong_type: helper_metadata.tag.tag[1] must be a string, got integer");
  EXPECT_EQ(reject(user_message(R"(["a","b c"])")).reason, Reason::bad_identifier);
  EXPECT_EQ(reject(user_message(R"(["a:b","c"])")).text(),
            "bad_identifier: helper_metadata.tag.tag[0] \"a:b\" contains ':' (it separates pool and tag)");
  std::string long_part(129, 'x');
  const Rejection too_long = reject(user_message("[\"p\",\"" + long_part + "\"]"));
  EXPECT_EQ(too_long.reason, Reason::bad_identifier);
  EXPECT_NE(too_long.message.find("is longer than 128 bytes"), std::string::npos) << too_long.message;
  EXPECT_EQ(reject(R"({"message_id":"m","to_addr":"1","from_addr":"2","helper_metadata":[]})").text(),
            "wrong_type: helper_metadata must be an object, got array");
}

// vumi-go makes the tag the to_addr: USSD codes, + long codes, XMPP handles, dotted names.
TEST_F(InboundTest, VumiTagsOfEveryForm) {
  const std::pair<const char*, const char*> tags[] = {{"*120*10001#", "*120*10001#"},
                                                      {"+27820001001", "+27820001001"},
                                                      {"xmpp@example.org", "xmpp@example.org"},
                                                      {"tag.name.v1", "tag.name.v1"},
                                                      {"caf\\u00e9:1", "caf\xc3\xa9:1"}};
  for (const auto& [json_text, decoded] : tags) {
    const std::string body = user_message(std::string(R"(["pool",")") + json_text + "\"]");
    EXPECT_EQ(take<InboundMessage>(decoder.decode("inbound.sms", body)).tag, std::string("pool:") + decoded)
        << json_text;
  }
  EXPECT_EQ(reject(user_message(R"(["pool","a\tb"])")).reason, Reason::bad_identifier);
  EXPECT_EQ(reject(user_message(R"(["pool","a\u00a0b"])")).reason, Reason::bad_identifier);  // NBSP
  EXPECT_EQ(reject(user_message(R"(["pool",""])")).reason, Reason::bad_identifier);
  EXPECT_EQ(reject(user_message(R"(["po ol","t"])")).reason, Reason::bad_identifier);
}

TEST_F(InboundTest, AddressesAndMessageId) {
  EXPECT_EQ(reject(user_message(R"(["p","t"])", R"("to_addr":null,"from_addr":null,)")).reason,
            Reason::duplicate_key);  // user_message already has both: proves duplicates are caught here too
  EXPECT_EQ(reject(R"({"to_addr":"1","from_addr":"2","helper_metadata":{"tag":{"tag":["p","t"]}}})").text(),
            "missing_field: message_id");
  EXPECT_EQ(reject(R"({"message_id":1,"to_addr":"1","from_addr":"2"})").text(),
            "wrong_type: message_id must be a string, got integer");
  EXPECT_EQ(reject(R"({"message_id":"m","from_addr":"2"})").text(), "missing_field: to_addr");
  EXPECT_EQ(reject(R"({"message_id":"m","to_addr":5,"from_addr":"2"})").text(),
            "wrong_type: to_addr must be a string or null, got integer");
  std::string nulls =
      R"({"message_id":"m","to_addr":null,"from_addr":null,"helper_metadata":{"tag":{"tag":["p","t"]}}})";
  EXPECT_EQ(take<InboundMessage>(decoder.decode("inbound.sms", nulls)).tag, "p:t");
}

TEST_F(InboundTest, NonObjectAndInvalidBodies) {
  EXPECT_EQ(reject("[]").reason, Reason::not_object);
  EXPECT_EQ(reject("{").reason, Reason::invalid_json);
  EXPECT_EQ(reject("").reason, Reason::bad_frames);
}

TEST(CommandTest, ForwardsTheOriginalBytes) {
  EnvelopeDecoder decoder(DecodeLimits{}, nullptr);
  std::string body = R"({ "command" : "send",  "args":[1, 2.50] })";
  Command c = take<Command>(decoder.decode("command.bulk_worker", body));
  EXPECT_EQ(c.worker_name, "bulk_worker");
  EXPECT_EQ(c.body.data(), body.data());
  EXPECT_EQ(c.body.size(), body.size());
}

TEST(CommandTest, MustBeAValidObjectWithinLimits) {
  FakeAccounts accounts;
  DecodeLimits limits;
  limits.max_body_bytes = 64;
  EnvelopeDecoder decoder(limits, &accounts);
  EXPECT_EQ(rejection_of(decoder.decode("command.w", "[1]")).reason, Reason::not_object);
  EXPECT_EQ(rejection_of(decoder.decode("command.w", "{\"a\":1,\"a\":1}")).reason, Reason::duplicate_key);
  EXPECT_EQ(rejection_of(decoder.decode("command.w", "{\"a\":\"\xff\"}")).reason, Reason::invalid_utf8);
  EXPECT_EQ(rejection_of(decoder.decode("command.w", std::string(65, ' '))).reason, Reason::too_large);
  EXPECT_EQ(rejection_of(decoder.decode("command.w.x", "{}")).reason, Reason::bad_topic);
}

}  // namespace
}  // namespace vumi::event
