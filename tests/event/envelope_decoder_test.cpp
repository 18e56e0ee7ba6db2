// Decoding worker events: the normalised body, vumi-go compatibility, assigned ids and view lifetime.
#include "event/envelope_decoder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "decoder_fixtures.hpp"

namespace vumi::event {
namespace {

using testing::FakeAccounts;
using testing::kAccepted;
using testing::kPollTopic;
using testing::poll_body;
using testing::rejection_of;
using testing::take;

class EnvelopeDecoderTest : public ::testing::Test {
 protected:
  FakeAccounts accounts;
  EnvelopeDecoder decoder{DecodeLimits{}, &accounts};

  Envelope decode_event(std::string_view topic, std::string_view body) {
    return take<Envelope>(decoder.decode(topic, body));
  }
};

std::set<std::string> keys_of(const boost::json::value& body) {
  std::set<std::string> keys;
  for (const auto& member : body.as_object()) keys.emplace(member.key());
  return keys;
}

const std::set<std::string> kWorkerEventKeys{"account_key", "conversation_key", "conversation_type",
                                             "event_type",  "event_data",       "event_id",
                                             "timestamp"};

TEST_F(EnvelopeDecoderTest, DecodesAValidEventAndBuildsItsBodyWhenRead) {
  Envelope e = decode_event(kPollTopic, poll_body());
  EXPECT_EQ(e.account_key, "acct1");
  EXPECT_EQ(e.conversation_key, "poll1");
  EXPECT_EQ(e.conversation_type, "vxpolls");
  EXPECT_EQ(e.event_type, "poll_complete");
  EXPECT_EQ(e.event_id, "ev1");
  EXPECT_EQ(e.depth, 0u);
  // Nothing has read the body yet, so it is not built.
  EXPECT_TRUE(e.body_pending());
  EXPECT_EQ(e.event_data().at("answers").at("name"), "Thandi");
  EXPECT_FALSE(e.body_pending());
  EXPECT_EQ(e.body().at("timestamp"), "2026-01-02 03:04:05.000006");
  EXPECT_EQ(keys_of(e.body()), kWorkerEventKeys);
  EXPECT_EQ(&e.event_data(), &e.body().at("event_data").as_object());
}

TEST_F(EnvelopeDecoderTest, DropsFieldsOutsideTheEnvelope) {
  std::string body = R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete",)"
                     R"("event_data":{},"message_version":"20110921","depth":5,"causation_id":"x"})";
  Envelope e = decode_event(kPollTopic, body);
  EXPECT_EQ(keys_of(e.body()), kWorkerEventKeys);
  EXPECT_EQ(e.depth, 0u);  // a worker cannot claim a depth
}

TEST_F(EnvelopeDecoderTest, AcceptsVumiGoContentForEventData) {
  std::string body = R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
                     R"("event_type":"poll_complete","content":{"answers":{"q1":"yes"}}})";
  Envelope e = decode_event(kPollTopic, body);
  EXPECT_EQ(e.event_data().at("answers").at("q1"), "yes");
  EXPECT_EQ(keys_of(e.body()), kWorkerEventKeys);  // content moved to event_data, not kept
}

TEST_F(EnvelopeDecoderTest, EventDataWinsOverContent) {
  std::string body =
      R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
      R"("event_type":"poll_complete","content":{"from":"content"},"event_data":{"from":"event_data"}})";
  Envelope e = decode_event(kPollTopic, body);
  EXPECT_EQ(e.event_data().at("from"), "event_data");
  EXPECT_FALSE(e.body().as_object().contains("content"));
}

TEST_F(EnvelopeDecoderTest, ContentMustBeAnObjectWhenUsed) {
  std::string body = R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
                     R"("event_type":"poll_complete","content":"hello"})";
  EXPECT_EQ(rejection_of(decoder.decode(kPollTopic, body)).text(),
            "wrong_type: content must be an object, got string");
}

TEST_F(EnvelopeDecoderTest, TakesAMissingConversationTypeFromTheAccount) {
  std::string body =
      R"({"account_key":"acct1","conversation_key":"survey1","event_type":"survey_completed","event_data":{}})";
  Envelope e = decode_event("event.acct1.surveys.survey_completed", body);
  EXPECT_EQ(e.conversation_type, "surveys");
  EXPECT_EQ(e.body().at("conversation_type"), "surveys");
}

TEST_F(EnvelopeDecoderTest, NullConversationTypeCountsAsAbsent) {
  std::string body = R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":null,)"
                     R"("event_type":"poll_complete","event_data":{}})";
  EXPECT_EQ(decode_event(kPollTopic, body).conversation_type, "vxpolls");
}

TEST_F(EnvelopeDecoderTest, UndeclaredConversationWithoutTypeTakesTheTopicsType) {
  // vumi-go's VumiApiEvent has no conversation_type; the topic names it.
  std::string body =
      R"({"account_key":"acct1","conversation_key":"poll9","event_type":"poll_complete","content":{}})";
  Envelope e = decode_event(kPollTopic, body);
  EXPECT_EQ(e.conversation_type, "vxpolls");
  EXPECT_EQ(e.body().at("conversation_type"), "vxpolls");
}

TEST_F(EnvelopeDecoderTest, ADeclaredTypeStillMustAgreeWithTheTopic) {
  std::string body =
      R"({"account_key":"acct1","conversation_key":"survey1","event_type":"poll_complete","event_data":{}})";
  EXPECT_EQ(rejection_of(decoder.decode(kPollTopic, body)).reason, Reason::topic_mismatch);
}

TEST_F(EnvelopeDecoderTest, ABodyTypeNeedNotBeDeclared) {
  std::string body = R"({"account_key":"acct2","conversation_key":"c9","conversation_type":"bulk",)"
                     R"("event_type":"sent","event_data":{}})";
  EXPECT_EQ(decode_event("event.acct2.bulk.sent", body).conversation_key, "c9");
}

TEST_F(EnvelopeDecoderTest, AssignsAFreshEventIdWhenAbsent) {
  std::string body =
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","event_data":{}})";
  Envelope first = decode_event(kPollTopic, body);
  Envelope second = decode_event(kPollTopic, body);
  EXPECT_TRUE(std::regex_match(std::string(first.event_id), std::regex("[0-9a-f]{32}"))) << first.event_id;
  EXPECT_NE(first.event_id, second.event_id);
  EXPECT_EQ(first.body().at("event_id").as_string(), first.event_id);
}

TEST_F(EnvelopeDecoderTest, AssignsAVumiTimestampWhenAbsent) {
  std::string body =
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","event_data":{}})";
  Envelope e = decode_event(kPollTopic, body);
  std::string stamp(e.body().at("timestamp").as_string());
  EXPECT_TRUE(std::regex_match(stamp, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})"))) << stamp;
}

TEST_F(EnvelopeDecoderTest, ViewsSurviveMovingTheEnvelopeAndLosingTheInputAndDecoder) {
  Envelope moved;
  {
    auto topic = std::make_unique<std::string>(kPollTopic);
    auto body = std::make_unique<std::string>(poll_body());
    auto local = std::make_unique<EnvelopeDecoder>(DecodeLimits{}, &accounts);
    Envelope original = take<Envelope>(local->decode(*topic, *body));
    Envelope constructed(std::move(original));
    moved = std::move(constructed);  // move assignment too
    // Overwrite and free the inputs so stale views would read garbage.
    topic->assign(topic->size(), 'X');
    body->assign(body->size(), 'X');
  }
  std::vector<Envelope> many;
  for (int i = 0; i < 20; ++i)
    many.push_back(decode_event(kPollTopic, poll_body()));  // reallocations move them
  many.push_back(std::move(moved));
  const Envelope& e = many.back();
  EXPECT_EQ(e.account_key, "acct1");
  EXPECT_EQ(e.conversation_key, "poll1");
  EXPECT_EQ(e.conversation_type, "vxpolls");
  EXPECT_EQ(e.event_type, "poll_complete");
  EXPECT_EQ(e.event_id, "ev1");
  EXPECT_EQ(e.event_data().at("answers").at("name"), "Thandi");
  EXPECT_EQ(many.front().event_data().at("answers").at("name"), "Thandi");
}

TEST_F(EnvelopeDecoderTest, LaterMessagesDecodeNormallyAfterRejections) {
  const char* bad[] = {"{", "[1,2]", "{\"a\":1,\"a\":2}", "\xff\xfe", "{\"account_key\":5}"};
  for (const char* body : bad) EXPECT_NE(rejection_of(decoder.decode(kPollTopic, body)).reason, kAccepted);
  EXPECT_EQ(decode_event(kPollTopic, poll_body()).event_id, "ev1");
}

TEST_F(EnvelopeDecoderTest, WithoutAccountsSkipsAccountChecks) {
  EnvelopeDecoder client_side(DecodeLimits{}, nullptr);
  std::string body = R"({"account_key":"nobody","conversation_key":"c","conversation_type":"t",)"
                     R"("event_type":"e","event_data":{}})";
  EXPECT_EQ(take<Envelope>(client_side.decode("event.nobody.t.e", body)).account_key, "nobody");
}

TEST_F(EnvelopeDecoderTest, WithoutAccountsAMissingConversationTypeComesFromTheTopic) {
  EnvelopeDecoder client_side(DecodeLimits{}, nullptr);
  std::string body =
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","event_data":{}})";
  EXPECT_EQ(take<Envelope>(client_side.decode(kPollTopic, body)).conversation_type, "vxpolls");
}

TEST_F(EnvelopeDecoderTest, IsUsableFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto d = decoder.decode(kPollTopic, poll_body());
        if (const Envelope* e = d ? std::get_if<Envelope>(&*d) : nullptr; e && e->event_id == "ev1") ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 800);
}

}  // namespace
}  // namespace vumi::event
