#include "transport/worker_publisher.hpp"

#include <algorithm>

#include "transport/socket_options.hpp"

namespace vumi::transport {

WorkerPublisher::WorkerPublisher(zmq::context_t& context, const std::string& endpoint,
                                 std::chrono::milliseconds send_timeout, std::chrono::milliseconds linger,
                                 const std::optional<CurveClientKeys>& curve)
    : socket_(context, zmq::socket_type::xpub) {
  apply_common_options(socket_, static_cast<int>(linger.count()));
  socket_.set(zmq::sockopt::xpub_nodrop, 1);
  socket_.set(zmq::sockopt::sndtimeo, static_cast<int>(send_timeout.count()));
  if (curve) apply_curve_client(socket_, *curve);
  connect_endpoint(socket_, endpoint);
}

void WorkerPublisher::connect(const std::string& endpoint) {
  connect_endpoint(socket_, endpoint);
}

bool WorkerPublisher::covered(std::string_view topic) const {
  return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                     [topic](const std::string& prefix) { return topic.starts_with(prefix); });
}

bool WorkerPublisher::wait_for_subscriptions(const std::vector<std::string>& topics,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto all_covered = [&] {
    return std::all_of(topics.begin(), topics.end(), [this](const std::string& t) { return covered(t); });
  };
  read_subscriptions();
  while (!all_covered()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, left);
    read_subscriptions();
  }
  return true;
}

void WorkerPublisher::read_subscriptions() {
  zmq::message_t msg;
  while (socket_.recv(msg, zmq::recv_flags::dontwait)) {
    const auto* data = static_cast<const char*>(msg.data());
    if (msg.size() < 1 || data[0] > 1) continue;
    std::string prefix(data + 1, msg.size() - 1);
    auto found = std::find(subscriptions_.begin(), subscriptions_.end(), prefix);
    // XPUB passes on a prefix's first subscription and, when the last subscriber of it leaves
    // (a dispatcher gave its shard up or died), the withdrawal.
    if (data[0] == 1 && found == subscriptions_.end()) subscriptions_.push_back(std::move(prefix));
    if (data[0] == 0 && found != subscriptions_.end()) subscriptions_.erase(found);
  }
}

bool WorkerPublisher::send(std::string_view topic, std::string_view body) {
  // With XPUB_NODROP a full queue refuses the first frame (EAGAIN after the send timeout) and never
  // the second once the first went in, so a message is sent whole or not at all.
  if (!socket_.send(zmq::const_buffer(topic.data(), topic.size()), zmq::send_flags::sndmore)) return false;
  socket_.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::none);
  return true;
}

}  // namespace vumi::transport
