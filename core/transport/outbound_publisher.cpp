#include "transport/outbound_publisher.hpp"

#include <spdlog/spdlog.h>

#include "transport/socket_options.hpp"

namespace vumi::transport {

OutboundPublisher::OutboundPublisher(zmq::context_t& context, const std::string& endpoint)
    : socket_(context, zmq::socket_type::xpub), undeliverable_log_(std::chrono::seconds(5)) {
  apply_outbound_options(socket_);
  endpoint_ = bind_endpoint(socket_, "outbound", endpoint);
}

void OutboundPublisher::send(std::string_view topic, std::string_view body) {
  // Both frames go or neither: with XPUB_NODROP the first frame is refused when a subscriber is
  // full, and a first frame accepted guarantees the second is (libzmq checks the HWM per message).
  int rc = zmq_send(socket_.handle(), topic.data(), topic.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE);
  if (rc >= 0) rc = zmq_send(socket_.handle(), body.data(), body.size(), ZMQ_DONTWAIT);
  if (rc >= 0) {
    ++counters_.sent;
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

void OutboundPublisher::drain_subscriptions() {
  zmq::message_t msg;
  // Bounded: subscriptions are few, but never let a misbehaving peer keep this loop busy.
  for (int i = 0; i < 1024; ++i) {
    auto got = socket_.recv(msg, zmq::recv_flags::dontwait);
    if (!got) return;
    const auto* data = static_cast<const unsigned char*>(msg.data());
    if (msg.size() >= 1 && (data[0] == 0 || data[0] == 1)) {
      std::string_view prefix(static_cast<const char*>(msg.data()) + 1, msg.size() - 1);
      spdlog::info("outbound: {} \"{}\"", data[0] == 1 ? "subscribe" : "unsubscribe", prefix);
    }
  }
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
