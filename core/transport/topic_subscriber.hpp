// A listener on the dispatcher's outbound socket: a SUB that connects and subscribes to prefixes.
// Used by `listen`, the tests and the benchmark.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "transport/curve_keys.hpp"

namespace vumi::transport {

struct ReceivedMessage {
  std::string topic;
  std::string body;  // the second frame (empty when the message had one frame)
  std::size_t frames = 0;
};

class TopicSubscriber {
 public:
  // Connects and subscribes to each prefix (everything when prefixes is empty); throws
  // std::runtime_error naming the endpoint and the reason.
  // With curve, the socket authenticates as that key (security.subscribers) before connecting.
  TopicSubscriber(zmq::context_t& context, const std::string& endpoint,
                  const std::vector<std::string>& prefixes,
                  const std::optional<CurveClientKeys>& curve = std::nullopt);

  // The next message, or nullopt when none arrives within timeout. Throws zmq::error_t (EINTR)
  // when a signal interrupts the wait.
  std::optional<ReceivedMessage> receive(std::chrono::milliseconds timeout);

  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

}  // namespace vumi::transport
