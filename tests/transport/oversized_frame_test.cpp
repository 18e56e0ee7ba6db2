// A frame over ZMQ_MAXMSGSIZE makes libzmq drop the connection before any message reaches the
// dispatcher; the daemon's connection monitor counts and logs that close with the peer.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include "daemon_process.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;

TEST(OversizedFrame, TheDroppedConnectionIsCountedAndLoggedWithItsPeer) {
  testing::TempDir dir;
  const std::string routes = R"([{"on": {"event_type": "mark"}, "chain": [{"handler": "emit",
        "config": {"event_type": "marked", "event_data": {}}}]}])";
  const auto config = dir.write(
      "config.json", testing::test_config(dir.path() / "state", R"({"emit": {"type": "emit_event"}})", routes,
                                          "  \"limits\": { \"max_body_bytes\": 4096 },\n"));
  // At debug level the daemon logs each accepted connection: the big frame goes only once the
  // daemon has named its sender (under load, a connection accepted and dropped before the daemon
  // read the accept could no longer be named).
  testing::Daemon daemon(config, {"--log-level", "debug"});
  ASSERT_TRUE(daemon.listening()) << daemon.process().output();
  zmq::context_t context(1);
  {
    transport::WorkerPublisher big(context, daemon.ingest, std::chrono::seconds(5), std::chrono::seconds(5));
    ASSERT_TRUE(big.wait_for_subscriptions({"event."}, 10s));
    std::size_t cursor = 0;
    ASSERT_TRUE(daemon.process().wait_for_line("ingest: connection from 127.0.0.1:", 10s, &cursor))
        << daemon.process().output();
    // 1 MiB: far over max_body_bytes + 64 KiB of slack.
    ASSERT_TRUE(big.send("event.acct1.survey.mark", std::string(1024 * 1024, 'x')));
    auto line = daemon.process().wait_for_line("ingest: connection from 127.0.0.1:", 20s, &cursor);
    ASSERT_TRUE(line) << daemon.process().output();
    EXPECT_NE(line->find("closed (1 so far)"), std::string::npos) << *line;
    EXPECT_NE(line->find("for a frame over 69632 bytes"), std::string::npos) << *line;
  }
  // The daemon carries on: a sentinel from another connection is handled.
  transport::TopicSubscriber sub(context, daemon.outbound, {"event.acct1.survey.marked"});
  ASSERT_TRUE(daemon.process().wait_for_line("outbound: subscribe", 10s));
  transport::WorkerPublisher pub(context, daemon.ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  ASSERT_TRUE(pub.send("event.acct1.survey.mark",
                       R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
                       R"("event_type":"mark","event_data":{}})"));
  ASSERT_TRUE(sub.receive(10s));
  daemon.process().signal(SIGTERM);
  ASSERT_EQ(daemon.process().wait_exit(30s), 0);
  auto stopped = daemon.process().wait_for_line("stopped: ", 1s);
  ASSERT_TRUE(stopped);
  auto closed = testing::counter_value(*stopped, "ingest_connections_closed");
  ASSERT_TRUE(closed) << *stopped;
  EXPECT_GE(std::stoull(*closed), 1u) << *stopped;
  // Nothing of the big frame reached the decoder.
  auto received = testing::counter_value(*stopped, "received");
  ASSERT_TRUE(received);
  EXPECT_EQ(*received, "1") << *stopped;
}

}  // namespace
}  // namespace vumi
