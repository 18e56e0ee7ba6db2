#include "transport/connection_monitor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>

namespace vumi::transport {

namespace {

// "10.0.0.5:41234" (or "[::1]:41234") for a connected TCP socket; "fd N" when it cannot say.
std::string peer_of(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "fd " + std::to_string(fd);
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "a local peer";  // ipc://
}

std::string monitor_endpoint() {
  static std::atomic<unsigned> next{0};
  return "inproc://vumi-connection-monitor-" + std::to_string(next++);
}

}  // namespace

ConnectionMonitor::ConnectionMonitor(boost::asio::io_context& io, zmq::context_t& context,
                                     zmq::socket_t& socket, std::string role, std::size_t frame_limit_bytes)
    : monitored_(socket),
      events_(context, zmq::socket_type::pair),
      role_(std::move(role)),
      frame_limit_bytes_(frame_limit_bytes),
      log_(std::chrono::seconds(5)) {
  const std::string endpoint = monitor_endpoint();
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
    throw std::runtime_error(role_ + ": cannot monitor connections: " + zmq_strerror(zmq_errno()));
  events_.set(zmq::sockopt::linger, 0);
  events_.connect(endpoint);
  watcher_ = std::make_unique<SocketWatcher>(io, events_);
  watcher_->watch([this] { drain(); });
}

ConnectionMonitor::~ConnectionMonitor() {
  close();
}

void ConnectionMonitor::close() {
  if (!open_) return;
  open_ = false;
  watcher_.reset();
  zmq_socket_monitor(monitored_.handle(), nullptr, 0);
  events_.close();
}

void ConnectionMonitor::drain() {
  // Bounded: events are few (one per connect and close); never let them hold the loop.
  for (int i = 0; i < 256; ++i) {
    zmq::message_t header, address;
    if (!events_.recv(header, zmq::recv_flags::dontwait)) break;
    if (header.more()) (void)events_.recv(address, zmq::recv_flags::dontwait);
    if (header.size() < 6) continue;
    std::uint16_t event = 0;
    std::uint32_t value = 0;
    std::memcpy(&event, header.data(), sizeof(event));
    std::memcpy(&value, static_cast<const char*>(header.data()) + 2, sizeof(value));
    const int fd = static_cast<int>(value);
    if (event == ZMQ_EVENT_ACCEPTED) {
      ++accepted_;
      const std::string& peer = peers_[fd] = peer_of(fd);
      spdlog::debug("{}: connection from {} accepted", role_, peer);
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
      ++closed_;
      auto it = peers_.find(fd);
      const std::string peer = it != peers_.end() ? it->second : "fd " + std::to_string(fd);
      if (it != peers_.end()) peers_.erase(it);
      if (log_.admit()) {
        spdlog::info(
            "{}: connection from {} closed ({} so far): the peer closed it, or libzmq dropped it for a "
            "frame over {} bytes (limits.max_body_bytes plus slack; libzmq does not say which) ({} "
            "similar suppressed)",
            role_, peer, closed_, frame_limit_bytes_, log_.suppressed());
      }
    }
  }
  if (open_) watcher_->watch([this] { drain(); });
}

}  // namespace vumi::transport
