// The fast path for worker events (event_scan.hpp): what it accepts it reads exactly as the full
// parser does, what it cannot vouch for it leaves to the full parser, and the Envelope it makes
// builds the same body as the full path, only later.
#include "event/event_scan.hpp"

#include <gtest/gtest.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "decoder_fixtures.hpp"
#include "event/body_parser.hpp"

namespace vumi::event {
namespace {

namespace bj = boost::json;
using testing::FakeAccounts;
using testing::kAccepted;
using testing::kPollTopic;
using testing::poll_body;
using testing::rejection_of;
using testing::take;

std::string event_with_data(const std::string& event_data) {
  return R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete",)"
         R"("event_id":"ev1","timestamp":"2026-01-02 03:04:05.000006","event_data":)" +
         event_data + "}";
}

// levels objects nested under "next", each with 60 keys k0..k59 before it; innermost the last.
std::string objects_of_60_keys(int levels, const std::string& innermost) {
  std::string text;
  for (int level = 0; level < levels; ++level) {
    text += "{";
    for (int i = 0; i < 60; ++i) text += "\"k" + std::to_string(i) + "\":1,";
    text += "\"next\":";
  }
  return text + innermost + std::string(static_cast<std::size_t>(levels), '}');
}

TEST(EventScan, ReadsTheEnvelopeFieldsAndTheTextOfEventData) {
  const std::string body = poll_body();  // the views point into it
  auto scanned = scan_worker_event(body, DecodeLimits{});
  ASSERT_TRUE(scanned);
  EXPECT_EQ(scanned->account_key, "acct1");
  EXPECT_EQ(scanned->conversation_key, "poll1");
  EXPECT_EQ(scanned->conversation_type, "vxpolls");
  EXPECT_EQ(scanned->event_type, "poll_complete");
  EXPECT_EQ(scanned->event_id, "ev1");
  EXPECT_EQ(scanned->timestamp, "2026-01-02 03:04:05.000006");
  EXPECT_EQ(scanned->event_data, R"({"from_addr":"+27831234567","answers":{"name":"Thandi"}})");
}

// Keys are compared only when a cheap filter (size and last byte) says they may be equal: keys
// that only look alike to it are not duplicates, and a duplicate is found wherever it stands.
TEST(EventScan, GivesUpOnDuplicateKeysButNotOnKeysThatOnlyLookAlike) {
  // "ab" and "cb" share size and last byte; so do "b" and "abcdefghb" (sizes 1 and 9)
  EXPECT_TRUE(scan_worker_event(event_with_data(R"({"ab":1,"cb":2,"b":3,"abcdefghb":4,"x":{"ab":5}})"),
                                DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(event_with_data(R"({"ab":1,"cb":2,"ab":3})"), DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(event_with_data(R"({"ab":1,"zz":2,"q":0,"x":{},"ab":3})"), DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(event_with_data(R"({"x":{"k":1,"":2,"k":3}})"), DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(event_with_data(R"({"":1,"":2})"), DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(R"({"event_id":"a","account_key":"acct1","conversation_key":"poll1",)"
                                 R"("event_type":"poll_complete","event_id":"b","event_data":{}})",
                                 DecodeLimits{}));
  EXPECT_TRUE(scan_worker_event(R"({"event_id":"a","account_key":"acct1","conversation_key":"poll1",)"
                                R"("event_type":"poll_complete","event_data":{}})",
                                DecodeLimits{}));
}

TEST(EventScan, NullOptionalFieldsAreAbsentAndContentStandsInForEventData) {
  auto scanned = scan_worker_event(
      R"( { "account_key" : "acct1", "conversation_key":"poll1", "event_type":"poll_complete",)"
      "\n\t\r"
      R"("conversation_type":null,"event_id":null,"timestamp":null,"content":{"q":[1,-2.5,true,false,null]}} )",
      DecodeLimits{});
  ASSERT_TRUE(scanned);
  EXPECT_EQ(scanned->conversation_type.data(), nullptr);
  EXPECT_EQ(scanned->event_id.data(), nullptr);
  EXPECT_EQ(scanned->timestamp.data(), nullptr);
  EXPECT_EQ(scanned->event_data, R"({"q":[1,-2.5,true,false,null]})");
}

// Bodies the full parser accepts and the fast path must accept too, with what it reads equal to
// the full parser's: each is parsed both ways and compared.
TEST(EventScan, AgreesWithTheFullParserOnWhatItAccepts) {
  const std::vector<std::string> bodies{
      poll_body(),
      event_with_data("{}"),
      event_with_data(R"({"text":"caf\u00e9 \"quoted\" back\\slash \/ \b\f\n\r\t","n":0})"),
      event_with_data("{\"text\":\"ñandú 日本語 \xf0\x9f\x98\x80\"}"),
      event_with_data(R"({"a":{"b":{"c":[[],[{}],[1,2,3]]}},"empty":"","neg":-0,"frac":123456789.12345})"),
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete",)"
      R"("content":"not an object","event_data":{"x":1},"extra":{"nested":[1,{"k":"v"}]},"depth":9})",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    auto scanned = scan_worker_event(body, DecodeLimits{});
    ASSERT_TRUE(scanned);
    bj::value full;
    ASSERT_FALSE(parse_body(body, DecodeLimits{}, full));
    const bj::object& obj = full.as_object();
    EXPECT_EQ(scanned->account_key, obj.at("account_key").as_string());
    EXPECT_EQ(scanned->conversation_key, obj.at("conversation_key").as_string());
    EXPECT_EQ(scanned->event_type, obj.at("event_type").as_string());
    EXPECT_EQ(bj::parse(scanned->event_data), obj.at("event_data"));
  }
}

// Strings are skipped 16 bytes at a time where the CPU allows: a byte that needs a look must be
// found wherever it sits, near the start, across a 16-byte boundary or near the end of the text.
TEST(EventScan, FindsEveryByteThatNeedsALookWhereverItSits) {
  const std::vector<std::string> specials{"\x01",    "\x7f", "\xc3\xa9", "\xff", "\\n",
                                          "\\u00e9", "\\\"", "\"",       "\x1f"};
  for (std::size_t length = 0; length <= 40; ++length) {
    for (std::size_t at = 0; at <= length; ++at) {
      for (const std::string& special : specials) {
        std::string text(length, 'a');
        text.insert(at, special);
        const std::string body = event_with_data(R"({"s":")" + text + R"("})");
        bj::value full;
        const bool full_accepts = !parse_body(body, DecodeLimits{}, full);
        auto scanned = scan_worker_event(body, DecodeLimits{});
        ASSERT_EQ(scanned.has_value(), full_accepts) << body;
        if (scanned) {
          EXPECT_EQ(bj::parse(scanned->event_data), full.at("event_data")) << body;
        }
      }
    }
  }
}

// Each of these needs the full parser: to refuse it with its reason, or because only it can decode
// it exactly (escapes in keys or envelope fields, surrogate pairs, exponents, long numbers, large
// objects, limits approached).
TEST(EventScan, GivesUpOnWhatOnlyTheFullParserCanJudge) {
  const std::vector<std::string> bodies{
      event_with_data(R"({"n\u0061me":"Thandi"})"),
      event_with_data(R"({"emoji":"\ud83d\ude00"})"),
      event_with_data(R"({"big":1e3})"),
      event_with_data(R"({"big":12345678901234567890})"),
      event_with_data(R"({"a":1,"a":2})"),
      event_with_data(R"({"":1,"":2})"),
      event_with_data(R"({"event_type":1,"event_data":2,"event_type":3})"),
      event_with_data(R"({"a":1,})"),
      event_with_data(R"({"a":[1,]})"),
      event_with_data(R"({"a":01})"),
      event_with_data(R"({"a":tru})"),
      event_with_data("{\"a\":\"\x01\"}"),
      event_with_data("{\"a\":\"\xc0\xaf\"}"),
      event_with_data("{\"a\":\"\xed\xa0\x80\"}"),
      event_with_data("{/* comment */}"),
      R"({"account_key":"acct\u0031","conversation_key":"poll1","event_type":"poll_complete","event_data":{}})",
      R"({"account_key":"a.b","conversation_key":"poll1","event_type":"poll_complete","event_data":{}})",
      R"({"account_key":5,"conversation_key":"poll1","event_type":"poll_complete","event_data":{}})",
      R"({"conversation_key":"poll1","event_type":"poll_complete","event_data":{}})",
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","content":[]})",
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","event_data":null})",
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","event_data":{}} x)",
      R"([{"account_key":"acct1"}])",
      "\xef\xbb\xbf" + poll_body(),
      "",
  };
  for (const std::string& body : bodies) EXPECT_FALSE(scan_worker_event(body, DecodeLimits{})) << body;

  std::string many_members = "{";
  for (int i = 0; i < 65; ++i) many_members += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  EXPECT_FALSE(scan_worker_event(event_with_data(many_members + "}"), DecodeLimits{}));

  // More keys in open objects than the scan keeps (256): five levels of 60 keys each
  EXPECT_TRUE(scan_worker_event(event_with_data(objects_of_60_keys(3, "{}")), DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(event_with_data(objects_of_60_keys(5, "{}")), DecodeLimits{}));

  DecodeLimits tight;
  tight.max_depth = 4;
  tight.max_string_bytes = 16;
  EXPECT_TRUE(scan_worker_event(event_with_data(R"({"a":[1]})"), DecodeLimits{}));
  EXPECT_TRUE(scan_worker_event(event_with_data(R"({"":1,"a":2,"b":{"":3}})"), DecodeLimits{}));
  EXPECT_TRUE(scan_worker_event(event_with_data(R"({"event_type":1,"event_data":2})"), DecodeLimits{}));
  EXPECT_FALSE(scan_worker_event(event_with_data(R"({"a":[{}]})"), tight));  // depth 4
  EXPECT_FALSE(scan_worker_event(event_with_data(R"({"a":"seventeen bytes.."})"), tight));
}

// With the topic's fields, the body's must equal them; without, they need only be identifiers.
TEST(EventScan, WithTheTopicTheBodysFieldsMustEqualIt) {
  const TopicFields topic{"acct1", "vxpolls", "poll_complete"};
  const std::string body = poll_body();
  ASSERT_TRUE(scan_worker_event(body, DecodeLimits{}, &topic));
  const std::string without_type =
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete","event_data":{}})";
  EXPECT_TRUE(
      scan_worker_event(without_type, DecodeLimits{}, &topic));  // the caller checks the declared type

  for (const TopicFields& other :
       {TopicFields{"acct2", "vxpolls", "poll_complete"}, TopicFields{"acct1", "survey", "poll_complete"},
        TopicFields{"acct1", "vxpolls", "poll_started"}, TopicFields{"acct", "vxpolls", "poll_complete"}}) {
    EXPECT_FALSE(scan_worker_event(body, DecodeLimits{}, &other))
        << other.account_key << "." << other.event_type;
    EXPECT_TRUE(scan_worker_event(body, DecodeLimits{}));
  }
  // The conversation key and event id are still checked as identifiers.
  EXPECT_FALSE(scan_worker_event(
      R"({"account_key":"acct1","conversation_key":"a.b","event_type":"poll_complete","event_data":{}})",
      DecodeLimits{}, &topic));
  EXPECT_FALSE(
      scan_worker_event(R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete",)"
                        R"("event_id":"e f","event_data":{}})",
                        DecodeLimits{}, &topic));
}

class EventFastPathTest : public ::testing::Test {
 protected:
  FakeAccounts accounts;
  EnvelopeDecoder decoder{DecodeLimits{}, &accounts};
};

// The same event on both paths: plain, and with a key spelled with an escape, which only the full
// parser decodes. Their bodies are the same text, members in the same order.
TEST_F(EventFastPathTest, BothPathsMakeTheSameBody) {
  Envelope fast =
      take<Envelope>(decoder.decode(kPollTopic, event_with_data(R"({"name":"Thandi","q":[1,2]})")));
  Envelope full =
      take<Envelope>(decoder.decode(kPollTopic, event_with_data(R"({"n\u0061me":"Thandi","q":[1,2]})")));
  EXPECT_TRUE(fast.body_pending());
  EXPECT_FALSE(full.body_pending());
  EXPECT_EQ(bj::serialize(fast.body()), bj::serialize(full.body()));
  EXPECT_EQ(bj::serialize(fast.body()),
            R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
            R"("event_type":"poll_complete","event_id":"ev1","timestamp":"2026-01-02 03:04:05.000006",)"
            R"("event_data":{"name":"Thandi","q":[1,2]}})");
}

TEST_F(EventFastPathTest, AnEventWithoutIdOrTimestampGetsThemOnBothPaths) {
  const std::string plain =
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete",)"
      R"("content":{"a":1}})";
  const std::string escaped =
      R"({"account_key":"acct1","conversation_key":"poll1","event_type":"poll_complete",)"
      R"("content":{"\u0061":1}})";
  for (const std::string& body : {plain, escaped}) {
    SCOPED_TRACE(body);
    Envelope given = take<Envelope>(decoder.decode(kPollTopic, body, {}, "derived-1"));
    EXPECT_EQ(given.event_id, "derived-1");
    EXPECT_FALSE(given.random_event_id);
    Envelope drawn = take<Envelope>(decoder.decode(kPollTopic, body));
    EXPECT_TRUE(drawn.random_event_id);
    EXPECT_EQ(drawn.event_id.size(), 32u);
    EXPECT_EQ(drawn.body().at("event_id").as_string(), drawn.event_id);
    EXPECT_EQ(drawn.conversation_type, "vxpolls");  // declared by the account
    EXPECT_EQ(drawn.body().at("conversation_type"), "vxpolls");
    EXPECT_EQ(drawn.event_data().at("a"), 1);
    const std::string stamp(drawn.body().at("timestamp").as_string());
    EXPECT_EQ(stamp.size(), 26u) << stamp;
    EXPECT_EQ(bj::serialize(drawn.body()), bj::serialize(drawn.body()));  // built once, then kept
  }
}

TEST_F(EventFastPathTest, ABodyBuiltInAnArenaAfterTheInputIsGoneIsWhole) {
  auto arena = bj::make_shared_resource<bj::monotonic_resource>();
  std::vector<Envelope> kept;
  {
    auto body = std::make_unique<std::string>(poll_body());
    kept.push_back(take<Envelope>(decoder.decode(kPollTopic, *body, arena)));
    body->assign(body->size(), 'X');  // stale views would read this
  }
  for (int i = 0; i < 20; ++i) kept.push_back(take<Envelope>(decoder.decode(kPollTopic, poll_body(), arena)));
  const Envelope& first = kept.front();
  EXPECT_TRUE(first.body_pending());
  EXPECT_EQ(first.account_key, "acct1");
  EXPECT_EQ(first.event_data().at("answers").at("name"), "Thandi");
  EXPECT_EQ(*first.body().storage(), *arena);
  EXPECT_EQ(*first.event_data().at("answers").storage(), *arena);
}

// A rejection the fast path leaves to the full parser is the full parser's, word for word.
TEST_F(EventFastPathTest, RejectionsAreTheFullParsersOwn) {
  EXPECT_EQ(rejection_of(decoder.decode(kPollTopic, event_with_data(R"({"a":1,"a":2})"))).text(),
            "duplicate_key: a key appears twice in the object at event_data");
  EXPECT_EQ(rejection_of(decoder.decode("event.acct9.vxpolls.poll_complete",
                                        R"({"account_key":"acct9","conversation_key":"poll1",)"
                                        R"("event_type":"poll_complete","event_data":{}})"))
                .text(),
            "unknown_account: account_key \"acct9\" is not configured");
  EXPECT_EQ(rejection_of(decoder.decode(kPollTopic, event_with_data(R"({"big":1e3})"))).reason, kAccepted);
}

// A body the scan gives up on for its size of keys is still accepted, by the full parser.
TEST_F(EventFastPathTest, KeysBeyondWhatTheScanKeepsGoToTheFullParser) {
  const std::string text = objects_of_60_keys(5, R"({"end":true})");
  const Envelope envelope = take<Envelope>(decoder.decode(kPollTopic, event_with_data(text)));
  EXPECT_EQ(envelope.event_data().at("next").at("next").at("next").at("next").at("next").at("end"), true);
}

}  // namespace
}  // namespace vumi::event
