// A worker's side of the ingest socket, publishing without loss: an XPUB that connects, waits
// until the dispatcher's subscriptions arrive, then sends with no-drop (blocking at the
// high-water mark instead of dropping). Used by `publish`, the tests and the benchmark.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "transport/curve_keys.hpp"

namespace vumi::transport {

class WorkerPublisher {
 public:
  // Connects to endpoint (throws std::runtime_error naming it and the reason). send_timeout bounds
  // how long one send may wait for a full queue to drain; linger bounds the flush on close.
  // With curve, the socket authenticates as that key (security.publishers) before connecting.
  WorkerPublisher(zmq::context_t& context, const std::string& endpoint,
                  std::chrono::milliseconds send_timeout = std::chrono::seconds(30),
                  std::chrono::milliseconds linger = std::chrono::seconds(30),
                  const std::optional<CurveClientKeys>& curve = std::nullopt);

  // Connects to one more dispatcher (a cluster: every dispatcher gets every message its
  // subscriptions cover; docs/scale-out.md). Throws std::runtime_error like the constructor.
  void connect(const std::string& endpoint);

  // Waits until every topic is covered by a received subscription prefix, or the timeout passes.
  // Returns whether all are covered; subscriptions() tells what did arrive.
  bool wait_for_subscriptions(const std::vector<std::string>& topics, std::chrono::milliseconds timeout);

  // True when a subscription received so far (and not withdrawn since) is a prefix of topic.
  bool covered(std::string_view topic) const;
  const std::vector<std::string>& subscriptions() const { return subscriptions_; }

  // Sends [topic, body], waiting while the peer's queue is full; false if the send timeout passed
  // (nothing was sent then).
  bool send(std::string_view topic, std::string_view body);

  zmq::socket_t& socket() { return socket_; }

 private:
  void read_subscriptions();

  zmq::socket_t socket_;
  std::vector<std::string> subscriptions_;
};

}  // namespace vumi::transport
