// The topic splitter and the helpers under the decoder.
#include "event/ingest_topic.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "event/body_fields.hpp"
#include "event/body_parser.hpp"
#include "event/event_identity.hpp"

namespace vumi::event {
namespace {

TEST(IngestTopicTest, SplitsEachForm) {
  struct Form {
    const char* topic;
    IngestTopic::Kind kind;
    std::vector<std::string_view> parts;
  };
  const std::vector<Form> forms{
      {"event.a-1.vx:polls.poll_complete", IngestTopic::Kind::event, {"a-1", "vx:polls", "poll_complete"}},
      {"inbound.sms", IngestTopic::Kind::inbound, {"sms"}},
      {"command.worker_1", IngestTopic::Kind::command, {"worker_1"}},
      {"transport_event.sms", IngestTopic::Kind::transport_event, {"sms"}},
      {"conversation_outbound.bulk_message.c1",
       IngestTopic::Kind::conversation_outbound,
       {"bulk_message", "c1"}},
  };
  for (const Form& form : forms) {
    auto parsed = parse_ingest_topic(form.topic);
    ASSERT_TRUE(parsed) << form.topic;
    EXPECT_EQ(parsed->kind, form.kind) << form.topic;
    EXPECT_EQ(std::vector<std::string_view>(parsed->parts, parsed->parts + form.parts.size()), form.parts)
        << form.topic;
  }
}

// Each refusal names the part at fault and why.
TEST(IngestTopicTest, RefusalsNameThePartAndWhy) {
  EXPECT_EQ(parse_ingest_topic("event.acct1.vx polls.done").error().message,
            R"(topic "event.acct1.vx polls.done" has conversation_type "vx polls" contains ' ' (allowed: )"
            R"(A-Z a-z 0-9 _ : -))");
  EXPECT_EQ(parse_ingest_topic("event.acct1..done").error().message,
            R"(topic "event.acct1..done" has conversation_type "" is empty)");
  EXPECT_EQ(parse_ingest_topic("inbound.a.b").error().message,
            R"(topic "inbound.a.b" has more than 2 parts; expected inbound.<transport_name>)");
}

TEST(IngestTopicTest, RefusesMalformedTopics) {
  for (const char* topic : {"event", "event.", "event.a.b", "event.a.b.c.", "event.a.b.c.d", "event..b.c",
                            "inbound", "inbound..", "command.a.b", "Event.a.b.c", "x", "."}) {
    auto parsed = parse_ingest_topic(topic);
    ASSERT_FALSE(parsed) << topic;
    EXPECT_EQ(parsed.error().reason, Reason::bad_topic) << topic;
  }
  const auto empty = parse_ingest_topic("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().reason, Reason::bad_frames);
  std::string long_part(129, 'a');
  EXPECT_FALSE(parse_ingest_topic("inbound." + long_part));
  EXPECT_TRUE(parse_ingest_topic("inbound." + long_part.substr(1)));
}

TEST(Utf8Test, FindsTheFirstInvalidSequence) {
  EXPECT_EQ(first_invalid_utf8("plain"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("ab\x80"), 2u);            // stray continuation
  EXPECT_EQ(first_invalid_utf8("ab\xc3"), 2u);            // truncated
  EXPECT_EQ(first_invalid_utf8("\xe0\x80\x80"), 0u);      // overlong
  EXPECT_EQ(first_invalid_utf8("a\xed\xbf\xbf"), 1u);     // surrogate
  EXPECT_EQ(first_invalid_utf8("\xf5\x80\x80\x80"), 0u);  // beyond U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xc3\x28"), 0u);          // bad continuation
}

TEST(QuotedExcerptTest, EscapesAndShortens) {
  EXPECT_EQ(quoted_excerpt("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted_excerpt(std::string("\n\x00", 2)), "\"\\x0a\\x00\"");
  EXPECT_EQ(quoted_excerpt(std::string(70, 'x')), "\"" + std::string(64, 'x') + "\"... (70 bytes)");
}

TEST(EventIdentityTest, TimestampsAreVumiFormatInUtc) {
  using namespace std::chrono;
  system_clock::time_point t{seconds{1767323045} + microseconds{6}};  // 2026-01-02 03:04:05.000006 UTC
  EXPECT_EQ(vumi_timestamp(t), "2026-01-02 03:04:05.000006");
}

// The same text as gmtime_r + snprintf (what it replaced) from 1970 to 2100.
TEST(EventIdentityTest, TimestampsMatchTheCLibrarysCalendar) {
  using namespace std::chrono;
  const auto reference = [](system_clock::time_point t) {
    const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
    const std::time_t whole = static_cast<std::time_t>(us / 1'000'000);
    std::tm parts{};
    gmtime_r(&whole, &parts);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06d", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  static_cast<int>(us % 1'000'000));
    return std::string(text);
  };
  std::mt19937_64 random(15);
  const std::int64_t end_us = 4'102'444'800LL * 1'000'000;  // 2100-01-01
  std::vector<std::int64_t> times{0, 951'782'400LL * 1'000'000 + 999'999 /* 2000-02-29 */,
                                  1'709'251'199LL * 1'000'000 /* 2024-02-29 23:59:59 */,
                                  1'735'689'599LL * 1'000'000 + 999'999 /* 2024-12-31 23:59:59.999999 */,
                                  end_us - 1};
  for (int i = 0; i < 20'000; ++i) times.push_back(static_cast<std::int64_t>(random() % end_us));
  for (std::int64_t us : times) {
    const system_clock::time_point t{microseconds{us}};
    ASSERT_EQ(vumi_timestamp(t), reference(t)) << us;
  }
  // The ends of what system_clock can hold (64-bit nanoseconds).
  EXPECT_EQ(vumi_timestamp(system_clock::time_point::min()), "1677-09-21 00:12:43.145224");
  EXPECT_EQ(vumi_timestamp(system_clock::time_point::max()), "2262-04-11 23:47:16.854775");
}

TEST(EventIdentityTest, FreshIdsAreHexAndDistinct) {
  std::string a = fresh_event_id();
  std::string b = fresh_event_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace vumi::event
