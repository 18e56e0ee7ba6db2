// Ingest memory is bounded in bytes: a publisher floods large messages faster than the daemon can
// decode them, and the daemon's resident memory stays near limits.max_ingest_queue_bytes instead
// of growing with everything sent (libzmq's receive queue is counted in messages: the daemon
// sets ZMQ_RCVHWM from the byte bound and the largest admitted message).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "daemon_process.hpp"
#include "transport/socket_options.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;

TEST(IngestMemory, ReceiveHighWaterMarkFollowsTheByteBound) {
  const std::size_t slack = transport::kMaxMessageSlackBytes;
  EXPECT_EQ(transport::ingest_receive_hwm(1024 * 1024, 256 * 1024 * 1024),
            256 * 1024 * 1024 / (1024 * 1024 + slack));
  EXPECT_EQ(transport::ingest_receive_hwm(1024 * 1024, 1024), 1);  // never 0 (unbounded in libzmq)
  EXPECT_EQ(transport::ingest_receive_hwm(100, std::size_t{1} << 40), transport::kIngestReceiveHwm);
}

TEST(IngestMemory, FloodOfLargeMessagesKeepsResidentMemoryBounded) {
  testing::TempDir dir;
  const std::string handlers =
      R"({"noop": {"type": "noop"}, "emit": {"type": "emit_event"}, "stall": {"type": "stall_on_mark"}})";
  const std::string routes = R"([{"on": {"event_type": "big"}, "chain": [{"handler": "noop"}]},
      {"on": {"event_type": "stall"}, "chain": [{"handler": "stall"}]},
      {"on": {"event_type": "mark"}, "chain": [{"handler": "emit", "config": {"event_type": "marked"}}]}])";
  constexpr std::size_t kQueueBytes = 32 * 1024 * 1024;
  const std::string limits = R"(  "limits": { "max_body_bytes": 1048576, "max_ingest_queue_bytes": )" +
                             std::to_string(kQueueBytes) + " },\n";
  std::string text = testing::test_config(dir.path() / "state", handlers, routes, limits);
  const std::string example = std::string(VUMI_PLUGIN_DIR) + "/example.so\"";
  text.replace(text.find(example), example.size(), example + ", \"" VUMI_FIXTURE_DIR "/crash_on_mark.so\"");
  const auto config = dir.write("config.json", text);
  testing::Daemon daemon(config);
  ASSERT_TRUE(daemon.listening()) << daemon.process().output();

  zmq::context_t context(1);
  transport::WorkerPublisher pub(context, daemon.ingest, 120s);
  pub.socket().set(zmq::sockopt::sndhwm, 4);  // the flood waits in the daemon, not in this process
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  transport::TopicSubscriber sub(context, daemon.outbound, {"event.acct1.survey.marked"});
  const std::string mark =
      R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
      R"("event_type":"mark","event_data":{}})";
  bool path_ready = false;
  for (int i = 0; i < 100 && !path_ready; ++i) {
    ASSERT_TRUE(pub.send("event.acct1.survey.mark", mark));
    path_ready = sub.receive(100ms).has_value();
  }
  ASSERT_TRUE(path_ready);
  while (sub.receive(300ms)) {
  }

  std::string items;
  const std::string item(1000, 'x');
  while (items.size() < 900 * 1000) items += (items.empty() ? "\"" : ",\"") + item + "\"";
  const std::string big = R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
                          R"("event_type":"big","event_data":{"items":[)" +
                          items + "]}}";

  const long rss_before = daemon.process().rss_kib();
  std::atomic<bool> flooding{true};
  std::atomic<long> peak{rss_before};
  std::thread sampler([&] {
    while (flooding) {
      const long rss = daemon.process().rss_kib();
      if (rss > peak) peak = rss;
      std::this_thread::sleep_for(20ms);
    }
  });
  // The dispatch thread sleeps 3 s in a handler while libzmq's I/O thread keeps receiving: only
  // the receive high-water mark stops the flood from piling up in the daemon.
  ASSERT_TRUE(pub.send("event.acct1.survey.stall", R"({"account_key":"acct1","conversation_key":"conv1",)"
                                                   R"("conversation_type":"survey","event_type":"stall",)"
                                                   R"("event_data":{"stall":true}})"));
  constexpr int kMessages = 400;  // 360 MB in all
  bool sent_all = true;
  for (int i = 0; i < kMessages && sent_all; ++i) sent_all = pub.send("event.acct1.survey.big", big);
  const bool marked = sent_all && pub.send("event.acct1.survey.mark", mark);
  std::optional<transport::ReceivedMessage> echo;
  for (int i = 0; i < 120 && marked && !echo; ++i) echo = sub.receive(1s);
  flooding = false;
  sampler.join();
  ASSERT_TRUE(sent_all);
  ASSERT_TRUE(echo) << "the daemon did not get through the flood";
  std::cout << "daemon RSS: " << rss_before << " KiB before the flood, peak " << peak.load()
            << " KiB during it (" << kMessages << " x " << big.size() << " bytes, max_ingest_queue_bytes "
            << kQueueBytes << ")\n";
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's quarantine holds freed memory: RSS says nothing here.
#else
  // The queue bound plus decoding one message, the store and the libraries, with room to spare;
  // without the bound the daemon queued most of the 360 MB.
  EXPECT_LT(peak.load() - rss_before, 200 * 1024) << "peak " << peak.load() << " KiB";
#endif

  daemon.process().signal(SIGTERM);
  ASSERT_EQ(daemon.process().wait_exit(60s), 0) << daemon.process().output();
  auto stopped = daemon.process().wait_for_line("stopped: ", 1s);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(std::stoull(*testing::counter_value(*stopped, "rejected")), 0u) << *stopped;
}

}  // namespace
}  // namespace vumi
