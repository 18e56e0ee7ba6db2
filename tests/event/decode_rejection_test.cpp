// Every way an ingest message is refused, with the exact reason and message.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "decoder_fixtures.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::event {
namespace {

using testing::FakeAccounts;
using testing::kAccepted;
using testing::kPollTopic;
using testing::poll_body;
using testing::rejection_of;

class DecodeRejectionTest : public ::testing::Test {
 protected:
  FakeAccounts accounts;
  DecodeLimits limits;
  EnvelopeDecoder decoder{limits, &accounts};

  Rejection reject(std::string_view topic, std::string_view body) {
    return rejection_of(decoder.decode(topic, body));
  }
  Rejection reject_event(std::string_view body) { return reject(kPollTopic, body); }
  Rejection reject_with(const DecodeLimits& custom, std::string_view body) {
    EnvelopeDecoder limited(custom, &accounts);
    return rejection_of(limited.decode(kPollTopic, body));
  }
};

// A poll body with one field replaced by raw JSON text (or removed when json is empty).
std::string poll_with(const std::string& field, const std::string& json) {
  std::string body = R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
                     R"("event_type":"poll_complete","event_data":{})";
  std::string key = "\"" + field + "\":";
  auto at = body.find(key);
  if (at != std::string::npos) {
    auto end = body.find_first_of(",}", at + key.size());
    if (body[at + key.size()] == '{') end = body.find('}', at) + 1;
    body.erase(at, end - at + (body[end] == ',' ? 1 : 0));
    if (body.back() == ',') body.pop_back();
  }
  if (!json.empty()) body += (body.size() > 1 ? "," : "") + key + json;
  return body + "}";
}

TEST(PollWithHelper, ReplacesAndRemovesFields) {
  EXPECT_EQ(poll_with("event_type", "1"),
            R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
            R"("event_data":{},"event_type":1})");
  EXPECT_EQ(poll_with("event_data", ""),
            R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
            R"("event_type":"poll_complete"})");
}

TEST_F(DecodeRejectionTest, InvalidJsonNamesLineAndColumn) {
  Rejection r = reject_event("{\"account_key\": \"acct1\",\n  \"x\": tru }");
  EXPECT_EQ(r.reason, Reason::invalid_json);
  EXPECT_EQ(r.message.rfind("line 2 col ", 0), 0u) << r.message;
}

TEST_F(DecodeRejectionTest, TrailingGarbageIsInvalidJson) {
  EXPECT_EQ(reject_event(poll_body() + " {}").reason, Reason::invalid_json);
  EXPECT_EQ(reject_event(poll_body() + "\n").reason, kAccepted);  // trailing whitespace is fine
}

TEST_F(DecodeRejectionTest, TruncatedJsonIsInvalidJson) {
  std::string body = poll_body();
  EXPECT_EQ(reject_event(body.substr(0, body.size() - 1)).reason, Reason::invalid_json);
}

TEST_F(DecodeRejectionTest, InvalidUtf8InAStringValue) {
  Rejection r = reject_event(poll_with("event_data", "{\"name\":\"caf\xc3\"}"));
  EXPECT_EQ(r.reason, Reason::invalid_utf8) << r.text();
}

TEST_F(DecodeRejectionTest, InvalidUtf8InAKeyAndOutsideStrings) {
  EXPECT_EQ(reject_event("{\"k\xff\":1}").reason, Reason::invalid_utf8);
  EXPECT_EQ(reject_event("{\"k\":1}\xff").reason, Reason::invalid_utf8);
  EXPECT_EQ(reject_event("\xef\xbb\xbf{}").reason, Reason::invalid_json);  // a BOM is valid UTF-8, not JSON
}

TEST_F(DecodeRejectionTest, OverlongAndSurrogateEncodingsAreInvalidUtf8) {
  EXPECT_EQ(reject_event("{\"k\":\"\xc0\xaf\"}").reason, Reason::invalid_utf8);          // overlong '/'
  EXPECT_EQ(reject_event("{\"k\":\"\xed\xa0\x80\"}").reason, Reason::invalid_utf8);      // U+D800
  EXPECT_EQ(reject_event("{\"k\":\"\xf4\x90\x80\x80\"}").reason, Reason::invalid_utf8);  // > U+10FFFF
}

TEST_F(DecodeRejectionTest, ValidMultibyteUtf8IsAccepted) {
  EXPECT_EQ(
      reject_event(poll_with("event_data", "{\"name\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"}")).reason,
      kAccepted);
}

TEST_F(DecodeRejectionTest, NonObjectBodies) {
  EXPECT_EQ(reject_event("[1,2]").text(), "not_object: the body must be a JSON object, got array");
  EXPECT_EQ(reject_event("\"event\"").text(), "not_object: the body must be a JSON object, got string");
  EXPECT_EQ(reject_event("42").text(), "not_object: the body must be a JSON object, got integer");
  EXPECT_EQ(reject_event("4.5").text(), "not_object: the body must be a JSON object, got number");
  EXPECT_EQ(reject_event("null").text(), "not_object: the body must be a JSON object, got null");
  EXPECT_EQ(reject_event("true").text(), "not_object: the body must be a JSON object, got boolean");
}

TEST_F(DecodeRejectionTest, DuplicateKeyAtTopLevel) {
  std::string body = poll_body();
  body.insert(1, R"("event_type":"other",)");
  EXPECT_EQ(reject_event(body).text(), "duplicate_key: a key appears twice in the top-level object");
}

TEST_F(DecodeRejectionTest, DuplicateKeyNestedNamesTheObject) {
  EXPECT_EQ(reject_event(poll_with("event_data", R"({"answers":{"q":1,"q":2}})")).text(),
            "duplicate_key: a key appears twice in the object at event_data.answers");
  EXPECT_EQ(reject_event(poll_with("event_data", R"({"list":[{},{"a":1,"b":2,"a":3}]})")).text(),
            "duplicate_key: a key appears twice in the object at event_data.list[1]");
}

TEST_F(DecodeRejectionTest, DuplicateKeyWhoseDroppedValueHeldObjects) {
  // The first "x" (with its nested objects) is discarded by the parser; the walk must not misalign.
  EXPECT_EQ(reject_event(poll_with("event_data", R"({"x":{"a":{"b":{}}},"y":{},"x":1})")).text(),
            "duplicate_key: a key appears twice in the object at event_data");
}

TEST_F(DecodeRejectionTest, ManyDistinctKeysAreNotDuplicates) {
  std::string data = "{";
  for (int i = 0; i < 200; ++i)
    data += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":{\"v\":" + std::to_string(i) + "}";
  data += "}";
  EXPECT_EQ(reject_event(poll_with("event_data", data)).reason, kAccepted);
}

TEST_F(DecodeRejectionTest, MissingFields) {
  EXPECT_EQ(reject_event(poll_with("account_key", "")).text(), "missing_field: account_key");
  EXPECT_EQ(reject_event(poll_with("conversation_key", "")).text(), "missing_field: conversation_key");
  EXPECT_EQ(reject_event(poll_with("event_type", "")).text(), "missing_field: event_type");
  EXPECT_EQ(reject_event(poll_with("event_data", "")).text(), "missing_field: event_data");
  EXPECT_EQ(reject_event("{}").text(), "missing_field: account_key");
}

TEST_F(DecodeRejectionTest, NumbersWhereStringsBelong) {
  EXPECT_EQ(reject_event(poll_with("event_type", "7")).text(),
            "wrong_type: event_type must be a string, got integer");
  EXPECT_EQ(reject_event(poll_with("account_key", "1.5")).text(),
            "wrong_type: account_key must be a string, got number");
  EXPECT_EQ(reject_event(poll_with("conversation_key", "null")).text(),
            "wrong_type: conversation_key must be a string, got null");
  EXPECT_EQ(reject_event(poll_with("conversation_type", "[]")).text(),
            "wrong_type: conversation_type must be a string, got array");
  EXPECT_EQ(reject_event(poll_with("event_id", "12")).text(),
            "wrong_type: event_id must be a string, got integer");
  EXPECT_EQ(reject_event(poll_with("timestamp", "12")).text(),
            "wrong_type: timestamp must be a string, got integer");
  EXPECT_EQ(reject_event(poll_with("event_data", "[]")).text(),
            "wrong_type: event_data must be an object, got array");
}

// Boost.JSON 1.81 alone reads these as infinity, which a re-serialised body would write as the
// non-JSON "Infinity".
TEST_F(DecodeRejectionTest, NumbersBeyondTheRangeOfADoubleAreInvalidJson) {
  for (const std::string& number : std::vector<std::string>{"1e400", "-2E+999", std::string(400, '7')}) {
    Rejection r = reject_event(poll_with("event_data", R"({"d": [[)" + number + "]]}"));
    EXPECT_EQ(r.reason, Reason::invalid_json) << number;
    EXPECT_EQ(r.message.rfind("line 1 col ", 0), 0u) << r.message;
    EXPECT_NE(r.message.find("a number is beyond the range of a double"), std::string::npos) << r.message;
  }
  EXPECT_EQ(reject_event(poll_with("event_data", R"({"d": [1.7976931348623157e308, 1e-400]})")).reason,
            kAccepted);
}

TEST_F(DecodeRejectionTest, BadIdentifiers) {
  EXPECT_EQ(reject_event(poll_with("account_key", "\"a.b\"")).text(),
            "bad_identifier: account_key \"a.b\" contains '.' (allowed: A-Z a-z 0-9 _ : -)");
  EXPECT_EQ(reject_event(poll_with("conversation_key", "\"\"")).text(),
            "bad_identifier: conversation_key \"\" is empty");
  EXPECT_EQ(reject_event(poll_with("event_id", "\"a b\"")).reason, Reason::bad_identifier);
  Rejection r = reject_event(poll_with("event_type", "\"caf\xc3\xa9\""));
  EXPECT_EQ(r.text(),
            "bad_identifier: event_type \"caf\\xc3\\xa9\" contains byte 0xc3 (allowed: A-Z a-z 0-9 _ : -)");
}

TEST_F(DecodeRejectionTest, VeryLongIdentifier) {
  std::string long_key(129, 'k');
  Rejection r = reject_event(poll_with("conversation_key", "\"" + long_key + "\""));
  EXPECT_EQ(r.reason, Reason::bad_identifier);
  EXPECT_NE(r.message.find("is longer than 128 characters"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("(129 bytes)"), std::string::npos) << r.message;  // shortened in the message
  std::string max_key(128, 'k');
  EXPECT_EQ(reject_event(poll_with("conversation_key", "\"" + max_key + "\"")).reason, kAccepted);
}

TEST_F(DecodeRejectionTest, BadTopics) {
  EXPECT_EQ(reject("events.acct1.vxpolls.poll_complete", poll_body()).reason, Reason::bad_topic);
  EXPECT_EQ(reject("event.acct1.vxpolls", poll_body()).text(),
            "bad_topic: topic \"event.acct1.vxpolls\" is too short; expected "
            "event.<account_key>.<conversation_type>.<event_type>");
  EXPECT_EQ(reject("event.acct1.vxpolls.poll_complete.x", poll_body()).reason, Reason::bad_topic);
  EXPECT_EQ(reject("event.acct1..poll_complete", poll_body()).text(),
            "bad_topic: topic \"event.acct1..poll_complete\" has conversation_type \"\" is empty");
  EXPECT_EQ(reject("event.acct 1.vxpolls.poll_complete", poll_body()).reason, Reason::bad_topic);
  EXPECT_EQ(reject("inbound", "{}").reason, Reason::bad_topic);
  EXPECT_EQ(reject("inbound.", "{}").reason, Reason::bad_topic);
  EXPECT_EQ(reject("inbound.a.b", "{}").reason, Reason::bad_topic);
  EXPECT_EQ(reject("command.", "{}").reason, Reason::bad_topic);
  EXPECT_EQ(reject("outbound.sms", "{}").reason, Reason::bad_topic);
  EXPECT_EQ(reject(".", "{}").reason, Reason::bad_topic);
}

TEST_F(DecodeRejectionTest, TopicMismatchNamesThePart) {
  EXPECT_EQ(reject("event.acct1.vxpolls.a", poll_with("event_type", "\"b\"")).text(),
            "topic_mismatch: topic says event_type \"a\", body says \"b\"");
  EXPECT_EQ(reject("event.acct2.vxpolls.poll_complete", poll_body()).text(),
            "topic_mismatch: topic says account_key \"acct2\", body says \"acct1\"");
  EXPECT_EQ(reject("event.acct1.surveys.poll_complete", poll_body()).text(),
            "topic_mismatch: topic says conversation_type \"surveys\", body says \"vxpolls\"");
  // The looked-up type is compared too.
  EXPECT_EQ(reject("event.acct1.surveys.poll_complete", poll_with("conversation_type", "")).text(),
            "topic_mismatch: topic says conversation_type \"surveys\", body says \"vxpolls\"");
}

TEST_F(DecodeRejectionTest, SizeAtAndOverTheLimit) {
  std::string body = poll_body();
  DecodeLimits exact;
  exact.max_body_bytes = body.size();
  EXPECT_EQ(reject_with(exact, body).reason, kAccepted);
  DecodeLimits smaller;
  smaller.max_body_bytes = body.size() - 1;
  EXPECT_EQ(reject_with(smaller, body).text(), "too_large: the body is " + std::to_string(body.size()) +
                                                   " bytes; the limit is " + std::to_string(body.size() - 1));
}

TEST_F(DecodeRejectionTest, TooLargeIsCheckedBeforeParsing) {
  DecodeLimits small;
  small.max_body_bytes = 10;
  EXPECT_EQ(reject_with(small, "not json at all").reason, Reason::too_large);
}

TEST_F(DecodeRejectionTest, DefaultSizeLimitIsOneMebibyte) {
  std::string filler(1024 * 1024, 'a');
  EXPECT_EQ(reject_event(poll_with("event_data", "{\"f\":\"" + filler + "\"}")).reason, Reason::too_large);
}

// event_data nested so that the whole body is `depth` levels deep.
std::string nested_body(std::size_t depth) {
  std::string open, close;
  for (std::size_t i = 2; i < depth; ++i) {
    open += "[";
    close += "]";
  }
  return poll_with("event_data", "{\"deep\":" + open + "1" + close + "}");
}

TEST_F(DecodeRejectionTest, DepthAtAndOverTheLimit) {
  EXPECT_EQ(reject_event(nested_body(64)).reason, kAccepted);
  Rejection r = reject_event(nested_body(65));
  EXPECT_EQ(r.reason, Reason::too_deep);
  EXPECT_NE(r.message.find("deeper than 64 levels"), std::string::npos) << r.message;
  DecodeLimits shallow;
  shallow.max_depth = 3;
  EXPECT_EQ(reject_with(shallow, nested_body(3)).reason, kAccepted);
  EXPECT_EQ(reject_with(shallow, nested_body(4)).reason, Reason::too_deep);
}

TEST_F(DecodeRejectionTest, VeryDeepNestingIsRefusedNotRecursedInto) {
  std::string deep(200000, '[');
  EXPECT_EQ(reject_event(deep).reason, Reason::too_deep);
}

TEST_F(DecodeRejectionTest, StringLengthAtAndOverTheLimit) {
  DecodeLimits limits_16;
  limits_16.max_string_bytes = 16;
  // missing_field means the parse got through and the fields were checked.
  EXPECT_EQ(reject_with(limits_16, R"({"s":"0123456789abcdef"})").reason, Reason::missing_field);
  Rejection r = reject_with(limits_16, R"({"s":"0123456789abcdefg"})");
  EXPECT_EQ(r.reason, Reason::string_too_long);
  EXPECT_EQ(r.message, "line 1 col 24: a string is longer than 16 bytes");  // where the parser stopped
}

TEST_F(DecodeRejectionTest, KeysCountAsStrings) {
  DecodeLimits limits_4;
  limits_4.max_string_bytes = 4;
  EXPECT_EQ(reject_with(limits_4, R"({"abcde":1})").reason, Reason::string_too_long);
  EXPECT_EQ(reject_with(limits_4, R"({"abcd":1})").reason, Reason::missing_field);
}

TEST_F(DecodeRejectionTest, EscapedStringsAreMeasuredDecoded) {
  DecodeLimits limits_4;
  limits_4.max_string_bytes = 4;
  EXPECT_EQ(reject_with(limits_4, R"({"k":"\u0041\u0042\u0043\u0044"})").reason, Reason::missing_field);
  EXPECT_EQ(reject_with(limits_4, R"({"k":"\u0041\u0042\u0043\u0044\n"})").reason, Reason::string_too_long);
}

TEST_F(DecodeRejectionTest, EmptyFrames) {
  EXPECT_EQ(reject("", poll_body()).text(), "bad_frames: the topic frame is empty");
  EXPECT_EQ(reject(kPollTopic, "").text(), "bad_frames: the body is empty");
  EXPECT_EQ(reject("inbound.sms", "").reason, Reason::bad_frames);
  EXPECT_EQ(reject("command.worker1", "").reason, Reason::bad_frames);
}

TEST_F(DecodeRejectionTest, UnknownAccount) {
  std::string body = poll_with("account_key", "\"acct9\"");
  EXPECT_EQ(reject("event.acct9.vxpolls.poll_complete", body).text(),
            "unknown_account: account_key \"acct9\" is not configured");
}

TEST_F(DecodeRejectionTest, AnUndeclaredConversationIsNotRejected) {
  // The topic gives its type (vumi-go's events have no conversation_type).
  auto decoded = decoder.decode("event.acct2.vxpolls.poll_complete",
                                R"({"account_key":"acct2","conversation_key":"poll1",)"
                                R"("event_type":"poll_complete","event_data":{}})");
  ASSERT_TRUE(decoded) << decoded.error().text();
  EXPECT_TRUE(std::holds_alternative<Envelope>(*decoded));
}

// Boost.JSON refuses escapes that decode to an unpaired UTF-16 surrogate; they stay invalid_json
// (the body's bytes are valid UTF-8; the escape is what is wrong).
TEST_F(DecodeRejectionTest, LoneSurrogateEscapeIsInvalidJson) {
  EXPECT_EQ(reject_event(poll_with("event_data", R"({"s":"\ud800"})")).reason, Reason::invalid_json);
  EXPECT_EQ(reject_event(R"({"s":"\udc00"})").text(),
            "invalid_json: line 1 col 13: illegal trailing surrogate");
  EXPECT_EQ(reject_event(poll_with("event_data", R"({"s":"\ud83d\ude00"})")).reason,
            kAccepted);  // a valid pair
}

TEST_F(DecodeRejectionTest, MessagesNeverCarryRawControlOrBinaryBytes) {
  Rejection r = reject(std::string("event.\x01\xff.b.c"), poll_body());
  EXPECT_EQ(r.reason, Reason::bad_topic);
  for (char c : r.message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << r.message;
}

// unowned_tag is the dispatcher's (routing), not the decoder's; every other reason is covered above.
TEST(ReasonCodes, AreDistinctAndStable) {
  std::set<std::string_view> codes;
  for (std::size_t i = 0; i < kReasonCount; ++i) codes.insert(reason_code(static_cast<Reason>(i)));
  EXPECT_EQ(codes.size(), kReasonCount);
  EXPECT_EQ(reason_code(Reason::unowned_tag), "unowned_tag");
  EXPECT_EQ((Rejection{Reason::too_deep, ""}).text(), "too_deep");
}

}  // namespace
}  // namespace vumi::event
