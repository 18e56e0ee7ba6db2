// Bad-input flood: thousands of malformed messages of every rejection kind interleaved with good
// ones. Every good one is dispatched, the rejected counts match per reason, the daemon stays up
// and its memory stays bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>

#include "daemon_process.hpp"
#include "event/rejection.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;

// One malformed input and the reason the protocol (docs/protocol.md) says it is rejected with,
// written out here rather than computed with the decoder under test.
struct Message {
  std::vector<std::string> frames;
  std::string reason;
};

std::string event_body(const std::string& fields_before_data, const std::string& event_data = R"({"n":1})") {
  return "{" + fields_before_data + R"(,"event_data":)" + event_data + "}";
}

const std::string kGoodFields =
    R"("account_key":"acct1","conversation_key":"conv1","conversation_type":"survey","event_type":"ping")";

// One malformed message of each kind, under the limits of the test config (body 4096 bytes,
// depth 16, strings 1024 bytes) and its one account acct1 with conversation conv1 (survey).
std::vector<Message> malformed() {
  const std::string topic = "event.acct1.survey.ping";
  std::string deep = "1";
  for (int i = 0; i < 40; ++i) deep = "[" + deep + "]";
  std::vector<Message> out = {
      {{topic, R"({"account_key": )"}, "invalid_json"},
      {{topic, "{\"account_key\":\"acct1\xff\"}"}, "invalid_utf8"},
      {{topic, "[1,2,3]"}, "not_object"},
      {{topic, event_body(kGoodFields + R"(,"event_type":"ping")")}, "duplicate_key"},
      {{topic,
        R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey","event_data":{}})"},
       "missing_field"},
      {{topic, event_body(kGoodFields, R"("not an object")")}, "wrong_type"},
      {{topic, event_body(R"("account_key":"acct1","conversation_key":"conv 1","conversation_type":"survey",)"
                          R"("event_type":"ping")")},
       "bad_identifier"},
      {{"event.acct1.survey", event_body(kGoodFields)}, "bad_topic"},
      {{"event.acct1.survey.other", event_body(kGoodFields)}, "topic_mismatch"},
      {{topic, event_body(kGoodFields, R"({"pad":")" + std::string(5000, 'x') + "\"}")}, "too_large"},
      {{topic, event_body(kGoodFields, R"({"deep":)" + deep + "}")}, "too_deep"},
      {{topic, event_body(kGoodFields, R"({"s":")" + std::string(2000, 's') + "\"}")}, "string_too_long"},
      {{"event.nobody.survey.ping", event_body(R"("account_key":"nobody","conversation_key":"conv1",)"
                                               R"("conversation_type":"survey","event_type":"ping")")},
       "unknown_account"},
      // An event of an undeclared conversation is routed by its topic's type; a conversation's
      // outbound message needs the conversation declared.
      {{"conversation_outbound.survey.convX", R"({"message_id":"m1","to_addr":"+271","content":"hi"})"},
       "unknown_conversation"},
      {{"conversation_outbound.survey.conv1", R"({"message_id":"m1","to_addr":"+271","content":"hi",)"
                                              R"("helper_metadata":{"tag":{"tag":["longcode","1"]}}})"},
       "no_tag_pool"},
      {{"transport_event.sms", R"({"message_type":"event","event_type":"ack","event_id":"e1",)"
                               R"("user_message_id":"never-sent","sent_message_id":"s1"})"},
       "unknown_message"},
      {{"inbound.sms", R"({"message_version":"20110921","message_type":"user_message","message_id":"m1",)"
                       R"("to_addr":"999","from_addr":"+271","content":"hi","transport_name":"sms",)"
                       R"("transport_type":"sms","helper_metadata":{"tag":{"tag":["longcode","999"]}}})"},
       "unowned_tag"},
      {{"event.single.frame"}, "bad_frames"},
      {{topic, event_body(kGoodFields), "a third frame"}, "bad_frames"},
  };
  return out;
}

TEST(Flood, MalformedMessagesAreCountedPerReasonAndNeverStopGoodOnes) {
  testing::TempDir dir;
  const std::string handlers = R"({"noop": {"type": "noop"}, "emit": {"type": "emit_event"}})";
  const std::string routes = R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "noop"}]},
      {"on": {"event_type": "mark"}, "chain": [{"handler": "emit",
        "config": {"event_type": "marked", "event_data": {"round": "{{/event/event_data/n}}"}}}]}])";
  const std::string limits =
      R"(  "limits": { "max_body_bytes": 4096, "max_json_depth": 16, "max_string_bytes": 1024 },)"
      "\n";
  const auto config =
      dir.write("config.json", testing::test_config(dir.path() / "state", handlers, routes, limits));
  testing::Daemon daemon(config);
  ASSERT_TRUE(daemon.listening()) << daemon.process().output();

  zmq::context_t context(1);
  transport::WorkerPublisher pub(context, daemon.ingest);
  ASSERT_TRUE(
      pub.wait_for_subscriptions({"event.", "inbound.", "transport_event.", "conversation_outbound."}, 10s));
  transport::TopicSubscriber sub(context, daemon.outbound, {"event.acct1.survey.marked"});
  auto mark = [&](int n) {
    return pub.send("event.acct1.survey.mark",
                    event_body(R"("account_key":"acct1","conversation_key":"conv1",)"
                               R"("conversation_type":"survey","event_type":"mark")",
                               R"({"n":)" + std::to_string(n) + "}"));
  };
  // Wait until the marker path works end to end (the subscription has reached the daemon).
  bool path_ready = false;
  std::uint64_t probes = 0;
  for (int i = 0; i < 100 && !path_ready; ++i) {
    ASSERT_TRUE(mark(-1));
    ++probes;
    path_ready = sub.receive(100ms).has_value();
  }
  ASSERT_TRUE(path_ready);
  while (sub.receive(300ms)) {
  }

  // What the daemon must count, per reason code.
  std::map<std::string, std::uint64_t> expected;
  const auto kinds = malformed();
  // Every reason the protocol defines is exercised.
  for (std::size_t r = 0; r < event::kReasonCount; ++r) {
    const std::string code(event::reason_code(static_cast<event::Reason>(r)));
    if (code == "forbidden") continue;  // needs CURVE keys: tests/stories/security_story_test.cpp
    EXPECT_TRUE(std::any_of(kinds.begin(), kinds.end(), [&](const Message& m) { return m.reason == code; }))
        << "no input for " << code;
    expected[code] = 0;
  }

  constexpr int kRounds = 4;
  constexpr int kPerKind = 150;  // 19 kinds x 150 = 2850 malformed per round
  std::uint64_t good = 0;
  long rss_after_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kPerKind; ++i) {
      for (std::size_t k = 0; k < kinds.size(); ++k) {
        const auto& frames = kinds[k].frames;
        for (std::size_t f = 0; f < frames.size(); ++f) {
          const auto more = f + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
          ASSERT_TRUE(pub.socket().send(zmq::buffer(frames[f]), more));
        }
        ++expected[kinds[k].reason];
        if (k % 4 == 0) {
          ASSERT_TRUE(pub.send("event.acct1.survey.ping", event_body(kGoodFields)));
          ++good;
        }
      }
    }
    // The marker comes after everything of this round on the same connection, so its echo means
    // the daemon has handled all of it.
    ASSERT_TRUE(mark(round));
    std::optional<transport::ReceivedMessage> echo;
    for (int i = 0; i < 60 && !echo; ++i) echo = sub.receive(1s);
    ASSERT_TRUE(echo) << "daemon did not get through round " << round;
    EXPECT_EQ(boost::json::parse(echo->body).at("event_data").at("round").as_int64(), round);
    if (round == 0) rss_after_first = daemon.process().rss_kib();
  }
  const long rss_after_last = daemon.process().rss_kib();
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in a quarantine (256 MiB by default), so RSS says nothing
  // about leaks there; LeakSanitizer checks those instead when the daemon exits.
  (void)rss_after_first;
  (void)rss_after_last;
#else
  EXPECT_LT(rss_after_last - rss_after_first, 32 * 1024)
      << "RSS grew from " << rss_after_first << " KiB to " << rss_after_last << " KiB";
#endif

  daemon.process().signal(SIGTERM);
  ASSERT_EQ(daemon.process().wait_exit(60s), 0) << daemon.process().output();
  auto stopped = daemon.process().wait_for_line("stopped: ", 1s);
  ASSERT_TRUE(stopped) << daemon.process().output().substr(0, 2000);
  for (const auto& [code, count] : expected) {
    auto v = testing::counter_value(*stopped, code);
    EXPECT_EQ(v ? std::stoull(*v) : 0, count) << code << " in " << *stopped;
  }
  // Every good ping and every mark ran its chain.
  EXPECT_EQ(std::stoull(*testing::counter_value(*stopped, "chains")), good + probes + kRounds) << *stopped;
}

}  // namespace
}  // namespace vumi
