// OutboundPublisher on real sockets: delivers, never blocks, counts what a full subscriber refuses.
#include "transport/outbound_publisher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "transport/topic_subscriber.hpp"

namespace vumi::transport {
namespace {

using namespace std::chrono_literals;

// Sends probes until the subscriber sees one (its subscription has reached the publisher).
bool await_subscription(OutboundPublisher& out, TopicSubscriber& sub, std::string_view topic) {
  for (int i = 0; i < 200; ++i) {
    out.send(topic, "{\"probe\":true}");
    if (sub.receive(50ms)) return true;
  }
  return false;
}

TEST(OutboundPublisher, DeliversBothFramesToASubscriber) {
  zmq::context_t context(1);
  OutboundPublisher out(context, "tcp://127.0.0.1:*");
  TopicSubscriber sub(context, out.endpoint(), {"outbound."});
  ASSERT_TRUE(await_subscription(out, sub, "outbound.probe"));
  while (sub.receive(100ms)) {
  }
  out.send("conversation.x.y", "{}");  // not subscribed: filtered, not counted as a failure
  out.send("outbound.sms", R"({"content":"hi"})");
  auto got = sub.receive(5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "outbound.sms");
  EXPECT_EQ(got->body, R"({"content":"hi"})");
  EXPECT_EQ(got->frames, 2u);
  EXPECT_EQ(out.counters().undeliverable, 0u);
}

TEST(OutboundPublisher, WithoutSubscribersSendsAreNotBlocked) {
  zmq::context_t context(1);
  OutboundPublisher out(context, "tcp://127.0.0.1:*");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) out.send("outbound.sms", "{}");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(out.counters().sent, 10000u);
}

TEST(OutboundPublisher, ASubscriberThatNeverReadsMakesSendsUndeliverableNotBlocking) {
  zmq::context_t context(1);
  OutboundPublisher out(context, "tcp://127.0.0.1:*");
  TopicSubscriber sub(context, out.endpoint(), {""});
  sub.socket().set(zmq::sockopt::rcvhwm, 10);
  sub.socket().set(zmq::sockopt::rcvbuf, 4096);
  ASSERT_TRUE(await_subscription(out, sub, "outbound.probe"));
  const auto before = out.counters().sent + out.counters().undeliverable;
  // The subscriber now never reads: its queues fill, then every send is refused and counted.
  const std::string body(1000, 'x');
  const auto start = std::chrono::steady_clock::now();
  constexpr int kSends = 400000;
  for (int i = 0; i < kSends; ++i) out.send("outbound.sms", body);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  EXPECT_GT(out.counters().undeliverable, 0u);
  EXPECT_EQ(out.counters().sent + out.counters().undeliverable, before + kSends);
  EXPECT_EQ(out.counters().failed, 0u);
}

}  // namespace
}  // namespace vumi::transport

namespace vumi::transport {
namespace {

TEST(OutboundPublisher, ASubscriberThatNeverReadsDoesNotHoldBackTheOthers) {
  zmq::context_t context(1);
  OutboundPublisher out(context, "tcp://127.0.0.1:*");
  TopicSubscriber stuck(context, out.endpoint(), {""});
  stuck.socket().set(zmq::sockopt::rcvhwm, 10);
  stuck.socket().set(zmq::sockopt::rcvbuf, 4096);
  ASSERT_TRUE(await_subscription(out, stuck, "outbound.probe"));
  TopicSubscriber healthy(context, out.endpoint(), {"outbound.sms"});
  ASSERT_TRUE(await_subscription(out, healthy, "outbound.sms"));

  // The healthy subscriber reads on its own thread and counts the messages marked "after".
  std::atomic<bool> done{false};
  std::atomic<bool> marker_seen{false};
  std::atomic<int> after{0};
  std::thread reader([&] {
    while (!done) {
      auto got = healthy.receive(20ms);
      if (got && got->body.starts_with("after")) ++after;
      if (got && got->body == "marker") marker_seen = true;
    }
  });

  // Fill the stuck subscriber's queues (bounded), then let the healthy one drain.
  const std::string body(1000, 'x');
  for (int i = 0; i < 400000 && out.counters().undeliverable == 0; ++i) out.send("outbound.sms", body);
  ASSERT_GT(out.counters().undeliverable, 0u);
  // A marker seen by the reader means its queue has drained (a marker it missed is sent again).
  for (int i = 0; i < 500 && !marker_seen; ++i) {
    out.send("outbound.sms", "marker");
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(marker_seen);

  // The stuck subscriber stays stuck, yet the healthy one gets every message.
  constexpr int kAfter = 10000;
  for (int i = 0; i < kAfter; ++i) out.send("outbound.sms", "after " + std::to_string(i));
  for (int i = 0; i < 500 && after < kAfter; ++i) std::this_thread::sleep_for(10ms);
  done = true;
  reader.join();
  EXPECT_EQ(after.load(), kAfter);
  EXPECT_EQ(out.counters().failed, 0u);
}

}  // namespace
}  // namespace vumi::transport
