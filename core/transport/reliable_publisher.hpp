// A worker's side of reliable ingest (docs/protocol.md, "Reliable ingest"): a DEALER that sends
// [topic, body, msg_id], keeps every message until the dispatcher acknowledges it with
// [msg_id, status] after the batch holding it committed, and resends what is not acknowledged
// within the ack timeout. Used by `publish --reliable`, the tests and the benchmark.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "transport/curve_keys.hpp"

namespace vumi::transport {

struct ReliableMessage {
  std::string topic;
  std::string body;
  std::string msg_id;  // unique among everything this and every other worker sends (1-256 bytes)
};

struct ReliableProgress {
  std::size_t total = 0;
  std::size_t acknowledged = 0;  // ok + duplicate + rejected
  std::size_t ok = 0;
  std::size_t duplicate = 0;  // the dispatcher had already processed it (an earlier send got through)
  std::size_t rejected = 0;   // refused for good (see the dispatcher's dead letters)
  std::size_t resent = 0;     // sends after the first (timeouts, "retry" and "not_owner" answers)
  std::size_t not_owner = 0;  // "not_owner" answers: sent on to another dispatcher of the cluster
  std::size_t in_flight = 0;
};

struct ReliableOptions {
  std::chrono::milliseconds ack_timeout{5000};  // resend a message not acknowledged within this
  std::size_t window = 1000;                    // messages sent and not yet acknowledged, at most
  std::chrono::milliseconds deadline{300'000};  // give up (returning what was acknowledged) after this
  std::chrono::milliseconds progress_interval{2000};
  std::function<void(const ReliableProgress&)> on_progress;  // called every progress_interval
};

// With several endpoints (the dispatchers of a cluster, docs/scale-out.md) there is one DEALER
// each. The messages of one account (event.<account>.*; other topics: of one topic) go to one
// dispatcher at a time, which keeps them in order; a "not_owner" answer, a failed send or an ack
// timeout moves that account on to the next endpoint. A message every endpoint refused as
// not_owner waits kNotOwnerPause before its next round (a shard between two owners).
class ReliablePublisher {
 public:
  static constexpr std::chrono::milliseconds kNotOwnerPause{200};

  // Connects (throws std::runtime_error naming the endpoint and the reason). With curve, the
  // socket authenticates as that key (security.publishers) before connecting.
  ReliablePublisher(zmq::context_t& context, const std::string& endpoint,
                    const std::optional<CurveClientKeys>& curve = std::nullopt);
  ReliablePublisher(zmq::context_t& context, const std::vector<std::string>& endpoints,
                    const std::optional<CurveClientKeys>& curve = std::nullopt);

  // Sends every message and resends until each is acknowledged or the deadline passes; returns
  // the final tally (acknowledged == total when everything was).
  ReliableProgress publish(const std::vector<ReliableMessage>& messages, const ReliableOptions& options);

  // The first endpoint's socket.
  zmq::socket_t& socket() { return sockets_.front(); }
  // Closes every socket.
  void close();

 private:
  std::vector<zmq::socket_t> sockets_;
};

}  // namespace vumi::transport
