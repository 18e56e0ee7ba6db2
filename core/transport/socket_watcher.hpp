// Calls back on the io_context when a ZeroMQ socket may have messages to read.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <zmq.hpp>

namespace vumi::transport {

// ZMQ_FD is edge-triggered and signals "look at ZMQ_EVENTS", not "a message is waiting": any
// operation on the socket may consume the edge. So the watcher checks ZMQ_EVENTS before it waits
// on the descriptor, and the callback must read until the socket says EAGAIN (or hit a budget
// and call watch() again, which then posts at once).
class SocketWatcher {
 public:
  // The socket must outlive the watcher; the descriptor stays owned by libzmq.
  SocketWatcher(boost::asio::io_context& io, zmq::socket_t& socket);
  ~SocketWatcher();
  SocketWatcher(const SocketWatcher&) = delete;
  SocketWatcher& operator=(const SocketWatcher&) = delete;

  // Calls on_readable once on the io_context: soon if ZMQ_EVENTS has POLLIN, else when the
  // descriptor signals. One pending watch at a time.
  void watch(std::function<void()> on_readable);

  // Cancels a pending watch; its callback will not run.
  void cancel();

 private:
  boost::asio::io_context& io_;
  zmq::socket_t& socket_;
  boost::asio::posix::stream_descriptor descriptor_;
  unsigned generation_ = 0;  // bumped by cancel(), so posted callbacks from before are dropped
};

}  // namespace vumi::transport
