// IngestReader on real sockets (127.0.0.1, ephemeral port) with a recording handler.
#include "transport/ingest_reader.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <string>
#include <vector>

#include "transport/worker_publisher.hpp"

namespace vumi::transport {
namespace {

using namespace std::chrono_literals;

class RecordingHandler : public IngestHandler {
 public:
  void on_batch_begin() override {
    EXPECT_FALSE(in_batch);
    in_batch = true;
  }
  void on_message(std::string_view topic, std::string_view body) override {
    EXPECT_TRUE(in_batch);
    messages.emplace_back(topic, body);
    if (on_each) on_each();
  }
  void on_batch_end() override {
    EXPECT_TRUE(in_batch);
    in_batch = false;
    ++batches;
  }
  bool in_batch = false;
  int batches = 0;
  std::vector<std::pair<std::string, std::string>> messages;
  std::function<void()> on_each;
};

struct Fixture {
  boost::asio::io_context io;
  zmq::context_t context{1};
  RecordingHandler handler;

  // Runs the loop until done() or the time limit; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = 20s) {
    boost::asio::steady_timer deadline(io, limit);
    deadline.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io.stop();
    });
    handler.on_each = [&] {
      if (done()) io.stop();
    };
    if (!done()) io.run();
    io.restart();
    return done();
  }

  // The bound SUB sends its subscriptions only when the loop lets it process libzmq's commands,
  // so the loop runs while the publisher waits for them.
  bool await_subscriptions(WorkerPublisher& publisher, const std::vector<std::string>& topics) {
    for (int i = 0; i < 200; ++i) {
      io.poll();
      if (publisher.wait_for_subscriptions(topics, 50ms)) return true;
    }
    return false;
  }
};

TEST(IngestReader, BindsEphemeralPortAndReportsTheResolvedEndpoint) {
  Fixture f;
  IngestReader reader(f.io, f.context, "tcp://127.0.0.1:*", 1024, f.handler);
  EXPECT_TRUE(reader.endpoint().starts_with("tcp://127.0.0.1:"));
  EXPECT_NE(reader.endpoint(), "tcp://127.0.0.1:*");
  EXPECT_NE(reader.endpoint(), "tcp://127.0.0.1:0");
}

TEST(IngestReader, RefusesAnEndpointInUseWithTheReason) {
  Fixture f;
  IngestReader first(f.io, f.context, "tcp://127.0.0.1:*", 1024, f.handler);
  try {
    IngestReader second(f.io, f.context, first.endpoint(), 1024, f.handler);
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ingest: cannot bind \"" + first.endpoint() + "\""),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST(IngestReader, RefusesBadEndpointSyntax) {
  Fixture f;
  EXPECT_THROW(IngestReader(f.io, f.context, "tcp://127.0.0.1", 1024, f.handler), std::runtime_error);
  EXPECT_THROW(IngestReader(f.io, f.context, "carrier-pigeon://x", 1024, f.handler), std::runtime_error);
}

TEST(IngestReader, DeliversTwoFrameMessagesInOrderAndCountsBadFrames) {
  Fixture f;
  IngestReader reader(f.io, f.context, "tcp://127.0.0.1:*", 1024, f.handler, 64);
  reader.start();
  WorkerPublisher publisher(f.context, reader.endpoint());
  ASSERT_TRUE(f.await_subscriptions(publisher, {"event.x", "inbound.x", "command.x"}));

  auto& s = publisher.socket();
  constexpr int kGood = 3000;
  int bad = 0;
  for (int i = 0; i < kGood; ++i) {
    ASSERT_TRUE(publisher.send("event.a.b.c", "{\"n\":" + std::to_string(i) + "}"));
    if (i % 100 == 0) {  // one frame, three frames, an empty body, a topic nobody subscribed to
      s.send(zmq::str_buffer("event.single"), zmq::send_flags::none);
      s.send(zmq::str_buffer("command.w"), zmq::send_flags::sndmore);
      s.send(zmq::str_buffer("{}"), zmq::send_flags::sndmore);
      s.send(zmq::str_buffer("extra"), zmq::send_flags::none);
      s.send(zmq::str_buffer("inbound.t"), zmq::send_flags::sndmore);
      s.send(zmq::str_buffer(""), zmq::send_flags::none);
      s.send(zmq::str_buffer("other.topic"), zmq::send_flags::sndmore);
      s.send(zmq::str_buffer("{}"), zmq::send_flags::none);
      bad += 3;
    }
  }
  ASSERT_TRUE(publisher.send("command.last", "{}"));
  ASSERT_TRUE(f.run_until([&] { return f.handler.messages.size() == kGood + 1; }));
  for (int i = 0; i < kGood; ++i) {
    ASSERT_EQ(f.handler.messages[i].first, "event.a.b.c");
    ASSERT_EQ(f.handler.messages[i].second, "{\"n\":" + std::to_string(i) + "}");
  }
  EXPECT_EQ(f.handler.messages.back().first, "command.last");
  EXPECT_EQ(reader.counters().messages, static_cast<std::uint64_t>(kGood + 1));
  EXPECT_EQ(reader.counters().bad_frames, static_cast<std::uint64_t>(bad));
  // A budget of 64 splits the work into many batches, each bracketed by begin/end.
  EXPECT_GE(f.handler.batches, (kGood + 1) / 64);
  EXPECT_FALSE(f.handler.in_batch);
}

TEST(IngestReader, ABusySocketDoesNotStarveTimers) {
  Fixture f;
  IngestReader reader(f.io, f.context, "tcp://127.0.0.1:*", 1024, f.handler, 16);
  reader.start();
  WorkerPublisher publisher(f.context, reader.endpoint());
  ASSERT_TRUE(f.await_subscriptions(publisher, {"event.x"}));
  constexpr int kCount = 20000;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(publisher.send("event.a.b.c", "{}"));
  // Let everything queue up, then count how many messages were handled when a timer fired.
  ASSERT_TRUE(f.run_until([&] { return !f.handler.messages.empty(); }));
  const std::size_t handled_when_armed = f.handler.messages.size();
  std::size_t handled_when_timer_fired = 0;
  boost::asio::steady_timer timer(f.io, 0ms);
  timer.async_wait(
      [&](const boost::system::error_code&) { handled_when_timer_fired = f.handler.messages.size(); });
  ASSERT_TRUE(f.run_until([&] { return f.handler.messages.size() == kCount; }));
  // A due timer waits for a few budgets of 16 messages at most, not for the whole queue.
  EXPECT_LE(handled_when_timer_fired, handled_when_armed + 4 * 16);
  EXPECT_LT(handled_when_timer_fired, static_cast<std::size_t>(kCount));
}

TEST(IngestReader, StopHandsOverNothingMore) {
  Fixture f;
  IngestReader reader(f.io, f.context, "tcp://127.0.0.1:*", 1024, f.handler, 8);
  reader.start();
  WorkerPublisher publisher(f.context, reader.endpoint());
  ASSERT_TRUE(f.await_subscriptions(publisher, {"event.x"}));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(publisher.send("event.a.b.c", "{}"));
  ASSERT_TRUE(f.run_until([&] { return f.handler.messages.size() >= 10; }));
  reader.stop();
  const auto seen = f.handler.messages.size();
  f.io.poll();  // anything already posted runs now, and must not read
  EXPECT_EQ(f.handler.messages.size(), seen);
  EXPECT_FALSE(f.handler.in_batch);
}

}  // namespace
}  // namespace vumi::transport
