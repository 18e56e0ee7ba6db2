#include "transport/socket_options.hpp"

#include <stdexcept>

namespace vumi::transport {

namespace {

// ZMTP heartbeats: ping an idle peer every 10 s, drop it after 30 s without an answer.
constexpr int kHeartbeatIntervalMs = 10'000;
constexpr int kHeartbeatTimeoutMs = 30'000;
constexpr int kHeartbeatTtlMs = 30'000;
// TCP keepalive as a second line for peers that vanish without closing (idle 60 s, probe 10 s).
constexpr int kTcpKeepaliveIdleS = 60;
constexpr int kTcpKeepaliveIntervalS = 10;

std::string explain(const std::string& role, const std::string& endpoint, const zmq::error_t& e) {
  std::string out = role.empty() ? std::string() : role + ": ";
  out += "cannot ";
  out += role.empty() ? "connect to " : "bind ";
  out += "\"" + endpoint + "\": " + e.what();
  if (e.num() == EINVAL || e.num() == EPROTONOSUPPORT) {
    out += " (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)";
  } else if (e.num() == EADDRINUSE) {
    out += " (another process is listening there)";
  }
  return out;
}

}  // namespace

int ingest_receive_hwm(std::size_t max_body_bytes, std::size_t max_queue_bytes) {
  const std::size_t largest = max_body_bytes + kMaxMessageSlackBytes;
  const std::size_t messages = max_queue_bytes / largest;
  if (messages < 1) return 1;
  return messages > static_cast<std::size_t>(kIngestReceiveHwm) ? kIngestReceiveHwm
                                                                : static_cast<int>(messages);
}

void apply_common_options(zmq::socket_t& socket, int linger_ms) {
  socket.set(zmq::sockopt::linger, linger_ms);
  socket.set(zmq::sockopt::tcp_keepalive, 1);
  socket.set(zmq::sockopt::tcp_keepalive_idle, kTcpKeepaliveIdleS);
  socket.set(zmq::sockopt::tcp_keepalive_intvl, kTcpKeepaliveIntervalS);
  socket.set(zmq::sockopt::heartbeat_ivl, kHeartbeatIntervalMs);
  socket.set(zmq::sockopt::heartbeat_timeout, kHeartbeatTimeoutMs);
  socket.set(zmq::sockopt::heartbeat_ttl, kHeartbeatTtlMs);
}

void apply_ingest_options(zmq::socket_t& socket, std::size_t max_body_bytes) {
  apply_common_options(socket, kDaemonLingerMs);
  socket.set(zmq::sockopt::rcvhwm, kIngestReceiveHwm);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_body_bytes + kMaxMessageSlackBytes));
}

void apply_outbound_options(zmq::socket_t& socket) {
  apply_common_options(socket, kDaemonLingerMs);
  socket.set(zmq::sockopt::sndhwm, kOutboundSendHwm);
  socket.set(zmq::sockopt::xpub_nodrop, 1);
  socket.set(zmq::sockopt::xpub_verbose, 1);
}

std::string bind_endpoint(zmq::socket_t& socket, const std::string& role, const std::string& endpoint) {
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(explain(role, endpoint, e));
  }
  return socket.get(zmq::sockopt::last_endpoint);
}

void connect_endpoint(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(explain("", endpoint, e));
  }
}

}  // namespace vumi::transport
