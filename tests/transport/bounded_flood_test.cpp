// Bad input costs bounded disk and log: repeated refusals from one source coalesce into one dead
// letter per reason (with a count) and their warnings are rate limited, while every good message
// interleaved with them is delivered. (bench/flood_bench measures the same at 1,000,000.)
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include "daemon_process.hpp"
#include "store/state_store.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;

std::string event(const std::string& account, const std::string& type, const std::string& data) {
  return R"({"account_key":")" + account +
         R"(","conversation_key":"conv1","conversation_type":"survey","event_type":")" + type +
         R"(","event_data":)" + data + "}";
}

std::uint64_t folder_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  return total;
}

TEST(BoundedFlood, RepeatedRefusalsCoalesceAndAreRateLimitedWhileGoodMessagesAllArrive) {
  testing::TempDir dir;
  const std::string handlers = R"({"emit": {"type": "emit_event"}})";
  const std::string routes = R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "emit",
        "config": {"event_type": "pinged", "event_data": {"n": "{{/event/event_data/n}}"}}}]}])";
  const auto config =
      dir.write("config.json", testing::test_config(dir.path() / "state", handlers, routes,
                                                    "  \"limits\": { \"max_body_bytes\": 4096 },\n"));
  testing::Daemon daemon(config);
  ASSERT_TRUE(daemon.listening()) << daemon.process().output();
  zmq::context_t context(1);
  transport::WorkerPublisher pub(context, daemon.ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event.", "inbound."}, 10s));
  transport::TopicSubscriber sub(context, daemon.outbound, {"event.acct1.survey.pinged"});
  ASSERT_TRUE(daemon.process().wait_for_line("outbound: subscribe", 10s));
  const std::size_t log_lines_before = daemon.process().lines().size();
  const std::uint64_t db_before = folder_bytes(dir.path() / "state");

  const std::string topic = "event.acct1.survey.ping";
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {topic, R"({"account_key": )"},                                                   // invalid_json
      {"event.nobody.survey.ping", event("nobody", "ping", "{}")},                      // unknown_account
      {topic, event("acct1", "ping", R"({"pad":")" + std::string(5000, 'x') + "\"}")},  // too_large
      {topic, "{\"account_key\":\"acct1\xff\"}"},                                       // invalid_utf8
      {"inbound.sms", R"({"message_version":"20110921","message_type":"user_message","message_id":"m1",)"
                      R"("to_addr":"9","from_addr":"+271","content":"hi","transport_name":"sms",)"
                      R"("transport_type":"sms","helper_metadata":{"tag":{"tag":["longcode","999"]}}})"},
  };
  constexpr int kBad = 20'000;
  constexpr int kGoodEvery = 20;
  int good_sent = 0, good_received = 0;
  std::uint64_t peak = db_before;
  for (int i = 0; i < kBad; ++i) {
    const auto& kind = kinds[i % kinds.size()];
    ASSERT_TRUE(pub.send(kind.first, kind.second));
    if ((i + 1) % kGoodEvery == 0) {
      ASSERT_TRUE(pub.send(topic, event("acct1", "ping", R"({"n":)" + std::to_string(good_sent) + "}")));
      ++good_sent;
    }
    if ((i + 1) % 5000 == 0) peak = std::max(peak, folder_bytes(dir.path() / "state"));
    while (sub.receive(0ms)) ++good_received;
  }
  // The sentinel: ingest is handled in order, so once it is back every message before it was too.
  ASSERT_TRUE(pub.send(topic, event("acct1", "ping", R"({"n":-1})")));
  bool sentinel = false;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!sentinel && std::chrono::steady_clock::now() < deadline) {
    auto got = sub.receive(1s);
    if (!got) continue;
    if (boost::json::parse(got->body).at("event_data").at("n").as_int64() == -1)
      sentinel = true;
    else
      ++good_received;
  }
  ASSERT_TRUE(sentinel) << "the daemon did not get through the flood";
  EXPECT_EQ(good_received, good_sent);
  peak = std::max(peak, folder_bytes(dir.path() / "state"));

  daemon.process().signal(SIGTERM);
  ASSERT_EQ(daemon.process().wait_exit(60s), 0) << daemon.process().output().substr(0, 2000);
  // Disk: one row per kind, not per message (the WAL holds at most a few batches of page writes).
  EXPECT_LT(peak - db_before, 5u * 1024 * 1024) << "state folder peaked at " << peak << " bytes";
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  auto letters = store->dead_letters("");
  EXPECT_EQ(letters.size(), kinds.size());
  std::int64_t counted = 0;
  for (const auto& d : letters) {
    counted += d.count;
    EXPECT_EQ(d.count, kBad / static_cast<int>(kinds.size())) << d.reason;
    EXPECT_NE(d.source.find("from 127.0.0.1"), std::string::npos) << d.source;
  }
  EXPECT_EQ(counted, kBad);
  // Log: a few lines per reason, not one per message.
  std::size_t log_bytes = 0, dead_letter_lines = 0;
  const auto lines = daemon.process().lines();
  for (std::size_t i = log_lines_before; i < lines.size(); ++i) {
    log_bytes += lines[i].size() + 1;
    dead_letter_lines += lines[i].find("dead letter:") != std::string::npos;
  }
  EXPECT_LT(dead_letter_lines, 100u);
  EXPECT_LT(log_bytes, 64u * 1024) << "log lines: " << lines.size() - log_lines_before;
}

}  // namespace
}  // namespace vumi
