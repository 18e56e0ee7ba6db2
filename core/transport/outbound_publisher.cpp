#include "transport/outbound_publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "transport/socket_options.hpp"

namespace vumi::transport {

OutboundPublisher::OutboundPublisher(zmq::context_t& context, const std::string& endpoint,
                                     const std::function<void(zmq::socket_t&)>& secure,
                                     SubscriptionFilter filter)
    : socket_(context, zmq::socket_type::xpub),
      undeliverable_log_(std::chrono::seconds(5)),
      filter_(std::move(filter)) {
  apply_outbound_options(socket_);
  if (filter_) socket_.set(zmq::sockopt::xpub_manual, 1);
  if (secure) secure(socket_);
  endpoint_ = bind_endpoint(socket_, "outbound", endpoint);
}

void OutboundPublisher::send(std::string_view topic, std::string_view body) {
  // Both frames go or neither: with XPUB_NODROP the first frame is refused when a subscriber is
  // full, and a first frame accepted guarantees the second is (libzmq checks the HWM per message).
  int rc = zmq_send(socket_.handle(), topic.data(), topic.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE);
  if (rc >= 0) rc = zmq_send(socket_.handle(), body.data(), body.size(), ZMQ_DONTWAIT);
  if (rc >= 0) {
    ++counters_.sent;
    if (!has_subscriber(topic)) ++counters_.no_subscriber;
    return;
  }
  int err = zmq_errno();
  if (err == EAGAIN) {
    // A full subscriber must not hold back the others: send this one message lossy, so every
    // subscriber that keeps up gets it and only the full ones miss it, and count the miss.
    socket_.set(zmq::sockopt::xpub_nodrop, 0);
    rc = zmq_send(socket_.handle(), topic.data(), topic.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE);
    if (rc >= 0) rc = zmq_send(socket_.handle(), body.data(), body.size(), ZMQ_DONTWAIT);
    if (rc < 0) err = zmq_errno();
    socket_.set(zmq::sockopt::xpub_nodrop, 1);
  }
  if (rc >= 0 || err == EAGAIN) {
    ++counters_.undeliverable;
  } else {
    ++counters_.failed;
  }
  if (undeliverable_log_.admit()) {
    spdlog::warn(
        "outbound: message on \"{}\" {} ({} undeliverable, {} failed so far; {} similar warnings "
        "suppressed)",
        topic,
        rc >= 0 ? std::string("missed by a slow subscriber (a subscriber's queue is full); the others got it")
                : std::string("not delivered: ") + zmq_strerror(err),
        counters_.undeliverable, counters_.failed, undeliverable_log_.suppressed());
  }
}

bool OutboundPublisher::has_subscriber(std::string_view topic) const {
  return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                     [topic](const std::string& prefix) { return topic.starts_with(prefix); });
}

void OutboundPublisher::drain_subscriptions() {
  zmq::message_t msg;
  bool subscribed = false;
  // Bounded: subscriptions are few, but never let a misbehaving peer keep this loop busy.
  for (int i = 0; i < 1024; ++i) {
    auto got = socket_.recv(msg, zmq::recv_flags::dontwait);
    if (!got) break;
    const auto* data = static_cast<const unsigned char*>(msg.data());
    if (msg.size() >= 1 && (data[0] == 0 || data[0] == 1)) {
      // XPUB_VERBOSE passes every subscribe, but an unsubscribe only when the last subscriber of
      // the prefix left (or unsubscribed): a set of the prefixes granted is what libzmq delivers to.
      const bool subscribe = data[0] == 1;
      for (const std::string& prefix : apply_subscription(msg)) {
        auto at = std::find(subscriptions_.begin(), subscriptions_.end(), prefix);
        if (subscribe && at == subscriptions_.end()) subscriptions_.push_back(prefix);
        if (!subscribe && at != subscriptions_.end()) subscriptions_.erase(at);
        subscribed = subscribed || subscribe;
      }
    }
  }
  if (subscribed && on_subscribe_) on_subscribe_();
}

std::vector<std::string> OutboundPublisher::apply_subscription(const zmq::message_t& msg) {
  // XPUB_MANUAL: nothing is subscribed until set here, and a set applies to the peer whose
  // message was read last, so each one is decided before the next is read.
  const bool subscribe = static_cast<const unsigned char*>(msg.data())[0] == 1;
  const std::string_view requested(static_cast<const char*>(msg.data()) + 1, msg.size() - 1);
  const char* user_id = zmq_msg_gets(msg.handle(), "User-Id");
  const std::string_view key = user_id ? std::string_view(user_id) : std::string_view();
  std::vector<std::string> granted =
      filter_ ? filter_(key, requested) : std::vector<std::string>{std::string(requested)};
  if (filter_) {
    for (const std::string& prefix : granted) {
      if (subscribe) {
        socket_.set(zmq::sockopt::subscribe, prefix);
      } else {
        socket_.set(zmq::sockopt::unsubscribe, prefix);
      }
    }
  }
  const char* verb = subscribe ? "subscribe" : "unsubscribe";
  if (granted.size() == 1 && granted[0] == requested) {
    spdlog::info("outbound: {} \"{}\"", verb, requested);
  } else if (!granted.empty()) {
    std::string list;
    for (const auto& p : granted) list += (list.empty() ? "\"" : ", \"") + p + "\"";
    spdlog::info("outbound: {} \"{}\" narrowed to {} (the subscriber's allowed prefixes)", verb, requested,
                 list);
  } else if (subscribe) {
    ++counters_.subscriptions_refused;
    if (refused_log_.admit())
      spdlog::warn(
          "outbound: refused subscription \"{:.200}\" from key {}: outside its allowed prefixes "
          "(security.subscribers); {} refused so far, {} similar warnings suppressed",
          requested, key.empty() ? std::string("(none)") : std::string(key), counters_.subscriptions_refused,
          refused_log_.suppressed());
  }
  return granted;
}

void OutboundPublisher::watch_subscriptions(boost::asio::io_context& io) {
  watcher_ = std::make_unique<SocketWatcher>(io, socket_);
  struct Rewatch {
    OutboundPublisher* self;
    void operator()() const {
      self->drain_subscriptions();
      self->watcher_->watch(*this);
    }
  };
  watcher_->watch(Rewatch{this});
}

void OutboundPublisher::close() {
  watcher_.reset();
  socket_.close();
}

}  // namespace vumi::transport
