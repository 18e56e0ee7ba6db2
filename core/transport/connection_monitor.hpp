// Watches the connections of a bound socket through libzmq's socket monitor, so a connection
// libzmq closes is counted and logged with its peer instead of vanishing silently.
//
// Why a monitor: when a frame is larger than ZMQ_MAXMSGSIZE, libzmq refuses it while decoding,
// before any message reaches us, and closes the connection. The only trace it leaves is a
// ZMQ_EVENT_DISCONNECTED on the socket monitor, and that event is the same one a peer's own
// close produces (libzmq 4.3 passes no reason). So this counts every close of a connection, names
// the peer (from getpeername at ZMQ_EVENT_ACCEPTED) and says in the log line that an oversized
// frame is one of the causes; frames up to the limit plus slack do arrive and are refused and
// counted as too_large.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <zmq.hpp>

#include "transport/rate_limited_log.hpp"
#include "transport/socket_watcher.hpp"

namespace vumi::transport {

class ConnectionMonitor {
 public:
  // Starts monitoring `socket` (call before it accepts connections); events are read on io.
  // `role` names the socket in logs ("ingest"); `frame_limit_bytes` is its ZMQ_MAXMSGSIZE.
  ConnectionMonitor(boost::asio::io_context& io, zmq::context_t& context, zmq::socket_t& socket,
                    std::string role, std::size_t frame_limit_bytes);
  ~ConnectionMonitor();

  void set_frame_limit(std::size_t frame_limit_bytes) { frame_limit_bytes_ = frame_limit_bytes; }
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t closed() const { return closed_; }  // connections that ended, for any reason

  // Stops monitoring (before the monitored socket closes).
  void close();

 private:
  void drain();

  zmq::socket_t& monitored_;
  zmq::socket_t events_;
  std::unique_ptr<SocketWatcher> watcher_;
  std::string role_;
  std::size_t frame_limit_bytes_;
  std::unordered_map<int, std::string> peers_;  // by file descriptor, from accept to close
  std::uint64_t accepted_ = 0;
  std::uint64_t closed_ = 0;
  RateLimitedLog log_;
  bool open_ = true;
};

}  // namespace vumi::transport
