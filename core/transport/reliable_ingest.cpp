#include "transport/reliable_ingest.hpp"

#include <spdlog/spdlog.h>

#include "transport/socket_options.hpp"

namespace vumi::transport {

ReliableIngestReader::ReliableIngestReader(boost::asio::io_context& io, zmq::context_t& context,
                                           const std::string& endpoint, std::size_t max_body_bytes,
                                           ReliableIngestHandler& handler, std::size_t budget,
                                           const std::function<void(zmq::socket_t&)>& secure)
    : socket_(context, zmq::socket_type::router),
      handler_(handler),
      budget_(budget == 0 ? 1 : budget),
      bad_frames_log_(std::chrono::seconds(5)) {
  apply_reliable_ingest_options(socket_, max_body_bytes);
  if (secure) secure(socket_);
  endpoint_ = bind_endpoint(socket_, "reliable ingest", endpoint);
  watcher_ = std::make_unique<SocketWatcher>(io, socket_);
}

ReliableIngestReader::~ReliableIngestReader() {
  watcher_.reset();
}

std::string_view ReliableIngestReader::sender_user_id() {
  const char* user_id = zmq_msg_gets(frames_[1].handle(), "User-Id");
  return user_id ? std::string_view(user_id) : std::string_view();
}

std::string_view ReliableIngestReader::current_source() {
  // Metadata the ZMTP session attached to the message: the peer's IP for tcp:// connections.
  const char* peer = zmq_msg_gets(frames_[2].handle(), "Peer-Address");
  const std::string_view address = peer ? std::string_view(peer) : std::string_view();
  if (source_.empty() || address != source_peer_) {
    source_peer_.assign(address);
    source_ = "reliable ingest " + endpoint_;
    if (!address.empty()) source_ += " from " + source_peer_;
  }
  return source_;
}

void ReliableIngestReader::start() {
  running_ = true;
  watcher_->watch([this] { drain(); });
}

void ReliableIngestReader::stop() {
  running_ = false;
  if (watcher_) watcher_->cancel();
}

void ReliableIngestReader::close() {
  stop();
  watcher_.reset();
  socket_.close();
}

std::size_t ReliableIngestReader::discard_queued(std::size_t limit) {
  std::size_t n = 0;
  zmq::message_t part;
  while (n < limit) {
    if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
    while (part.more() && socket_.recv(part, zmq::recv_flags::dontwait)) {
    }
    ++n;
  }
  return n;
}

void ReliableIngestReader::drain() {
  if (!running_) return;
  bool in_batch = false;
  batch_bytes_ = 0;
  for (std::size_t n = 0; n < budget_ && running_ && batch_bytes_ < kBatchBytesBudget; ++n) {
    if (!read_one(in_batch)) break;
  }
  if (in_batch) handler_.on_reliable_batch_end();
  if (running_) watcher_->watch([this] { drain(); });
}

bool ReliableIngestReader::read_one(bool& in_batch) {
  if (!socket_.recv(frames_[0], zmq::recv_flags::dontwait)) return false;
  // A ROUTER delivers the sender's routing id first, then the frames the DEALER sent, together.
  std::size_t frames = 1;
  bool more = frames_[0].more();
  while (more && frames < 4) {
    if (!socket_.recv(frames_[frames], zmq::recv_flags::dontwait)) break;
    more = frames_[frames].more();
    ++frames;
  }
  std::size_t extra = 0;
  while (more && socket_.recv(extra_, zmq::recv_flags::dontwait)) {
    ++extra;
    more = extra_.more();
  }
  if (frames + extra != 4) {
    refuse(frames + extra - 1, "expected exactly 3 [topic, body, msg_id]");
    // An id in the last frame can still be answered, so the sender stops resending it.
    if (frames == 4 && frames_[3].size() > 0 && frames_[3].size() <= kMaxMessageIdBytes)
      acknowledge(frames_[0].to_string_view(), frames_[3].to_string_view(), ack_status::rejected);
    return true;
  }
  const std::string_view msg_id = frames_[3].to_string_view();
  if (msg_id.empty() || msg_id.size() > kMaxMessageIdBytes) {
    refuse(3, "msg_id must be 1 to 256 bytes");
    return true;
  }
  if (frames_[1].size() == 0 || frames_[2].size() == 0) {
    refuse(3, "empty topic or body");
    acknowledge(frames_[0].to_string_view(), msg_id, ack_status::rejected);
    return true;
  }
  if (!in_batch) {
    handler_.on_reliable_batch_begin();
    in_batch = true;
  }
  ++counters_.messages;
  batch_bytes_ += frames_[1].size() + frames_[2].size();
  handler_.on_reliable_message(frames_[1].to_string_view(), frames_[2].to_string_view(), msg_id,
                               frames_[0].to_string_view());
  return true;
}

void ReliableIngestReader::acknowledge(std::string_view peer, std::string_view msg_id,
                                       std::string_view status) {
  // ROUTER drops a message for a peer that is gone (or at its high-water mark): that sender will
  // time out and resend, and the ledger answers the resend "duplicate".
  if (zmq_send(socket_.handle(), peer.data(), peer.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) return;
  if (zmq_send(socket_.handle(), msg_id.data(), msg_id.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) return;
  if (zmq_send(socket_.handle(), status.data(), status.size(), ZMQ_DONTWAIT) >= 0) ++counters_.acks;
}

void ReliableIngestReader::refuse(std::size_t frames, std::string_view why) {
  ++counters_.bad_frames;
  if (!bad_frames_log_.admit()) return;
  spdlog::warn(
      "reliable ingest: rejected message (bad_frames): {} frame(s) after the routing id; {} ({} similar "
      "suppressed)",
      frames, why, bad_frames_log_.suppressed());
}

}  // namespace vumi::transport
