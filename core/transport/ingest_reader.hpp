// The daemon's ingest socket: a SUB bound at ingest.bind whose messages are read on the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "transport/connection_monitor.hpp"
#include "transport/rate_limited_log.hpp"
#include "transport/socket_options.hpp"
#include "transport/socket_watcher.hpp"

namespace vumi::transport {

// Where ingest messages go (the Dispatcher in the daemon, a fake in tests).
class IngestHandler {
 public:
  virtual ~IngestHandler() = default;
  // Before the first message of a batch read in one turn of the loop.
  virtual void on_batch_begin() = 0;
  // One message of exactly two non-empty frames [topic, body]; the views die when it returns.
  virtual void on_message(std::string_view topic, std::string_view body) = 0;
  // After the last message of a batch (a good moment to commit state and look at other sockets).
  virtual void on_batch_end() = 0;
};

struct IngestCounters {
  std::uint64_t messages = 0;    // well-formed messages handed to the handler
  std::uint64_t bad_frames = 0;  // messages refused for their frame count or an empty frame
  std::uint64_t batches = 0;     // turns of the loop that read at least one message
};

class IngestReader {
 public:
  // Messages read per turn before yielding to timers, signals and the other socket.
  static constexpr std::size_t kDefaultBudget = 1024;
  // Bytes of messages read per turn (the batch's copies are held until it commits).
  static constexpr std::size_t kBatchBytesBudget = 8 * 1024 * 1024;
  // The prefixes the daemon subscribes to: the five ingest topic families.
  static constexpr std::string_view kTopicPrefixes[] = {"event.", "inbound.", "command.", "transport_event.",
                                                        "conversation_outbound."};

  // Creates the socket and binds it (throws std::runtime_error with the reason on failure).
  // secure (may be empty) is applied to the socket before it binds (CurveServer::secure).
  // max_queue_bytes bounds what libzmq queues per publisher (ingest_receive_hwm); fixed at bind.
  IngestReader(boost::asio::io_context& io, zmq::context_t& context, const std::string& endpoint,
               std::size_t max_body_bytes, IngestHandler& handler, std::size_t budget = kDefaultBudget,
               const std::function<void(zmq::socket_t&)>& secure = {},
               std::size_t max_queue_bytes = kDefaultIngestQueueBytes);
  ~IngestReader();

  // Subscribes to exactly these topic prefixes from now on (a cluster member: its accounts' events;
  // docs/scale-out.md). Connected publishers learn it at once; what they queued before is still read.
  void set_subscriptions(const std::vector<std::string>& prefixes);
  // The prefixes subscribed to now.
  const std::set<std::string>& subscriptions() const { return subscribed_; }

  // Starts reading on the io_context.
  void start();
  // Stops reading: no message is handed over after this returns. Messages still queued are left
  // unread (workers that need delivery guarantees republish on reconnect).
  void stop();
  // Closes the socket (after stop()).
  void close();
  // Reads and throws away what is still queued (at most limit messages), returning how many: at
  // shutdown, to say how many PUB/SUB messages were dropped.
  std::size_t discard_queued(std::size_t limit);

  // Applies a new body limit to ZMQ_MAXMSGSIZE; libzmq uses it for connections made from now on.
  // The body limit the socket was bound with (ZMQ_MAXMSGSIZE is this + kMaxMessageSlackBytes and
  // cannot change after bind: libzmq copies it into the listener).
  std::size_t max_body_bytes() const { return max_body_bytes_; }

  const std::string& endpoint() const { return endpoint_; }
  // Where the message being handled came from: "ingest <endpoint> from <peer address>" (the peer
  // as libzmq reports it for TCP; just the endpoint for other transports). Valid in on_message().
  std::string_view current_source();
  const IngestCounters& counters() const { return counters_; }
  // Connections accepted and closed on the ingest socket (a frame over ZMQ_MAXMSGSIZE closes one).
  const ConnectionMonitor& connections() const { return *monitor_; }

  // During IngestHandler::on_message: the User-Id the ZAP handler gave the sender's connection
  // (its CURVE public key), or "" without CURVE.
  std::string_view sender_user_id();

  // The socket, for options that must be set before peers connect (CURVE).
  zmq::socket_t& socket() { return socket_; }

 private:
  void drain();
  // Reads one message; false when none is waiting.
  bool read_one();
  void refuse_frames(std::size_t frames, std::size_t empty_frames);

  zmq::socket_t socket_;
  std::string endpoint_;
  IngestHandler& handler_;
  std::size_t budget_;
  std::size_t max_body_bytes_;
  std::unique_ptr<SocketWatcher> watcher_;
  std::unique_ptr<ConnectionMonitor> monitor_;
  bool running_ = false;
  std::size_t batch_bytes_ = 0;  // read in the current turn
  zmq::message_t topic_;
  zmq::message_t body_;
  zmq::message_t extra_;
  IngestCounters counters_;
  RateLimitedLog bad_frames_log_;
  std::string source_;       // current_source()'s text, rebuilt only when the peer changes
  std::string source_peer_;  // the peer address source_ was built for
  std::set<std::string> subscribed_;
};

}  // namespace vumi::transport
