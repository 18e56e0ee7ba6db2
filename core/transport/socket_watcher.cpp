#include "transport/socket_watcher.hpp"

#include <boost/asio/post.hpp>

namespace vumi::transport {

SocketWatcher::SocketWatcher(boost::asio::io_context& io, zmq::socket_t& socket)
    : io_(io), socket_(socket), descriptor_(io, socket.get(zmq::sockopt::fd)) {}

SocketWatcher::~SocketWatcher() {
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
  descriptor_.release();  // libzmq owns and closes the descriptor
}

void SocketWatcher::watch(std::function<void()> on_readable) {
  const unsigned generation = generation_;
  auto guarded = [this, generation, cb = std::move(on_readable)](const boost::system::error_code& ec) {
    if (!ec && generation == generation_) cb();
  };
  if (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) {
    boost::asio::post(io_, [guarded] { guarded({}); });
    return;
  }
  // Checking ZMQ_EVENTS and arming the wait happen in one handler, so an edge that comes in
  // between stays queued in epoll and wakes the wait.
  descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read, std::move(guarded));
}

void SocketWatcher::cancel() {
  ++generation_;
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
}

}  // namespace vumi::transport
