#include "transport/topic_subscriber.hpp"

#include "transport/socket_options.hpp"

namespace vumi::transport {

TopicSubscriber::TopicSubscriber(zmq::context_t& context, const std::string& endpoint,
                                 const std::vector<std::string>& prefixes,
                                 const std::optional<CurveClientKeys>& curve)
    : socket_(context, zmq::socket_type::sub) {
  apply_common_options(socket_, 0);
  socket_.set(zmq::sockopt::rcvhwm, kIngestReceiveHwm);
  if (curve) apply_curve_client(socket_, *curve);
  if (prefixes.empty()) {
    socket_.set(zmq::sockopt::subscribe, "");
  } else {
    for (const auto& p : prefixes) socket_.set(zmq::sockopt::subscribe, p);
  }
  connect_endpoint(socket_, endpoint);
}

std::optional<ReceivedMessage> TopicSubscriber::receive(std::chrono::milliseconds timeout) {
  zmq::message_t frame;
  if (!socket_.recv(frame, zmq::recv_flags::dontwait)) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
  }
  ReceivedMessage out;
  out.topic = frame.to_string();
  out.frames = 1;
  while (frame.more()) {
    if (!socket_.recv(frame, zmq::recv_flags::none)) break;
    if (++out.frames == 2) out.body = frame.to_string();
  }
  return out;
}

}  // namespace vumi::transport
