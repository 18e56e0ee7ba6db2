// The daemon's outbound socket: an XPUB bound at outbound.bind that never blocks dispatch.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "dispatch/outbound.hpp"
#include "transport/rate_limited_log.hpp"
#include "transport/socket_watcher.hpp"

namespace vumi::transport {

struct OutboundCounters {
  std::uint64_t sent = 0;  // messages accepted by the socket
  // Times a subscriber's queue was full (status line: subscriber_stalls). That subscriber misses
  // this message and, silently, what follows until libzmq takes it back: not a count of misses.
  std::uint64_t undeliverable = 0;
  std::uint64_t failed = 0;                 // messages refused for any other reason
  std::uint64_t subscriptions_refused = 0;  // subscriptions outside the subscriber's allowed prefixes
  std::uint64_t no_subscriber = 0;  // messages sent while no subscriber took their topic (dropped by libzmq)
};

// Which prefixes to apply when the peer with that ZAP User-Id (its CURVE public key, "" without
// CURVE) asks for a subscription prefix; empty refuses it.
using SubscriptionFilter =
    std::function<std::vector<std::string>(std::string_view user_id, std::string_view requested)>;

class OutboundPublisher : public dispatch::OutboundSink {
 public:
  // Creates the socket and binds it (throws std::runtime_error with the reason on failure);
  // secure (may be empty) is applied before the bind (CurveServer::secure). With a filter, no
  // subscription takes effect until the filter grants it (ZMQ_XPUB_MANUAL); without one, libzmq
  // applies every subscription itself.
  OutboundPublisher(zmq::context_t& context, const std::string& endpoint,
                    const std::function<void(zmq::socket_t&)>& secure = {}, SubscriptionFilter filter = {});

  // Sends [topic, body] without blocking; a refused message is counted and logged (rate-limited).
  void send(std::string_view topic, std::string_view body) override;

  // Reads the subscription messages subscribers sent (logging each at info level); never blocks.
  // Call it whenever the socket's descriptor is readable and from time to time, because sends
  // can consume the descriptor's edge.
  void drain_subscriptions();

  // Reads subscriptions on the io_context whenever they arrive, until close().
  void watch_subscriptions(boost::asio::io_context& io);

  // True when a connected subscriber's subscription is a prefix of topic (what libzmq would
  // deliver it to). Subscriptions are learnt from the socket as subscribers come and go.
  bool has_subscriber(std::string_view topic) const;
  // Called after a new subscription arrived (the outbox sends what waited for it).
  void on_subscribe(std::function<void()> callback) { on_subscribe_ = std::move(callback); }

  // The endpoint actually bound (ephemeral ports resolved).
  const std::string& endpoint() const { return endpoint_; }
  const OutboundCounters& counters() const { return counters_; }

  // Closes the socket, flushing queued messages for at most the configured linger.
  void close();

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  std::unique_ptr<SocketWatcher> watcher_;
  OutboundCounters counters_;
  RateLimitedLog undeliverable_log_;
  RateLimitedLog refused_log_{std::chrono::seconds(5)};
  SubscriptionFilter filter_;

  // Decides one subscription message (filter) and applies what is granted; logs it. Returns the
  // prefixes granted.
  std::vector<std::string> apply_subscription(const zmq::message_t& msg);
  std::vector<std::string> subscriptions_;  // prefixes with at least one subscriber
  std::function<void()> on_subscribe_;
};

}  // namespace vumi::transport
