// The daemon's acknowledged ingest socket: a ROUTER bound at ingest.reliable_bind. Workers' DEALERs
// send [topic, body, msg_id]; each gets [msg_id, status] back once the batch holding it committed
// (docs/protocol.md, "Reliable ingest").
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "transport/rate_limited_log.hpp"
#include "transport/socket_watcher.hpp"

namespace vumi::transport {

// The acknowledgement statuses of reliable ingest (the second frame of an ack).
namespace ack_status {
inline constexpr std::string_view ok = "ok";                // committed: forget it
inline constexpr std::string_view duplicate = "duplicate";  // committed earlier: forget it
inline constexpr std::string_view rejected = "rejected";    // refused for good (dead letter): forget it
inline constexpr std::string_view retry = "retry";  // not committed (store failing): send it again later
// Not handled: its account's shard is held by another dispatcher (or by none yet); send it to
// another dispatcher of the cluster, or again later (docs/scale-out.md).
inline constexpr std::string_view not_owner = "not_owner";
}  // namespace ack_status

// Where reliable messages go (the daemon's batch committer, a fake in tests).
class ReliableIngestHandler {
 public:
  virtual ~ReliableIngestHandler() = default;
  virtual void on_reliable_batch_begin() = 0;
  // One well-formed message; peer is the sender's ROUTER routing id. Views die when it returns.
  virtual void on_reliable_message(std::string_view topic, std::string_view body, std::string_view msg_id,
                                   std::string_view peer) = 0;
  virtual void on_reliable_batch_end() = 0;
};

struct ReliableIngestCounters {
  std::uint64_t messages = 0;    // well-formed messages handed over
  std::uint64_t bad_frames = 0;  // refused for their frame count or an empty frame
  std::uint64_t acks = 0;        // acknowledgements sent
};

class ReliableIngestReader {
 public:
  static constexpr std::size_t kDefaultBudget = 1024;
  // Longest msg_id accepted (bytes); a longer one is refused as bad_frames.
  static constexpr std::size_t kMaxMessageIdBytes = 256;
  // A turn also ends once this many bytes were read: the batch holds copies until it commits.
  static constexpr std::size_t kBatchBytesBudget = 8 * 1024 * 1024;

  // Creates the ROUTER and binds it (throws std::runtime_error with the reason on failure).
  // secure (may be empty) is applied to the socket before it binds (CurveServer::secure).
  ReliableIngestReader(boost::asio::io_context& io, zmq::context_t& context, const std::string& endpoint,
                       std::size_t max_body_bytes, ReliableIngestHandler& handler,
                       std::size_t budget = kDefaultBudget,
                       const std::function<void(zmq::socket_t&)>& secure = {});
  ~ReliableIngestReader();

  void start();
  // Stops reading (unread messages stay queued; their publishers resend them).
  void stop();
  // Reads and throws away what is still queued (at most limit messages), returning how many:
  // at shutdown, to say how many their publishers will resend.
  std::size_t discard_queued(std::size_t limit);
  void close();

  // Sends [peer, msg_id, status] without blocking; a peer that has gone is skipped (it resends).
  void acknowledge(std::string_view peer, std::string_view msg_id, std::string_view status);

  // The ZAP User-Id (CURVE public key) of the message being handed over; empty without CURVE.
  std::string_view sender_user_id();
  // Where the message being handed over came from, for its dead letters:
  // "reliable ingest <endpoint> from <peer IP>".
  std::string_view current_source();
  const std::string& endpoint() const { return endpoint_; }
  const ReliableIngestCounters& counters() const { return counters_; }

 private:
  void drain();
  // Reads one message; false when none is waiting.
  bool read_one(bool& in_batch);
  void refuse(std::size_t frames, std::string_view why);

  zmq::socket_t socket_;
  std::string endpoint_;
  ReliableIngestHandler& handler_;
  std::size_t budget_;
  std::unique_ptr<SocketWatcher> watcher_;
  bool running_ = false;
  zmq::message_t frames_[4];
  zmq::message_t extra_;
  ReliableIngestCounters counters_;
  RateLimitedLog bad_frames_log_;
  std::size_t batch_bytes_ = 0;  // read in the current turn
  std::string source_;           // current_source()'s text, rebuilt only when the peer changes
  std::string source_peer_;      // the peer address source_ was built for
};

}  // namespace vumi::transport
