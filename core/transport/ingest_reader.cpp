#include "transport/ingest_reader.hpp"

#include <spdlog/spdlog.h>

#include "transport/socket_options.hpp"

namespace vumi::transport {

IngestReader::IngestReader(boost::asio::io_context& io, zmq::context_t& context, const std::string& endpoint,
                           std::size_t max_body_bytes, IngestHandler& handler, std::size_t budget,
                           const std::function<void(zmq::socket_t&)>& secure, std::size_t max_queue_bytes)
    : socket_(context, zmq::socket_type::sub),
      handler_(handler),
      budget_(budget == 0 ? 1 : budget),
      max_body_bytes_(max_body_bytes),
      bad_frames_log_(std::chrono::seconds(5)) {
  apply_ingest_options(socket_, max_body_bytes);
  // Before bind: libzmq gives each accepted connection the options the socket had at bind time.
  socket_.set(zmq::sockopt::rcvhwm, ingest_receive_hwm(max_body_bytes, max_queue_bytes));
  for (std::string_view prefix : kTopicPrefixes) {
    socket_.set(zmq::sockopt::subscribe, prefix);
    subscribed_.emplace(prefix);
  }
  // Before bind, so no connection is accepted unseen.
  monitor_ = std::make_unique<ConnectionMonitor>(io, context, socket_, "ingest",
                                                 max_body_bytes + kMaxMessageSlackBytes);
  if (secure) secure(socket_);
  endpoint_ = bind_endpoint(socket_, "ingest", endpoint);
  watcher_ = std::make_unique<SocketWatcher>(io, socket_);
}

IngestReader::~IngestReader() {
  watcher_.reset();
  if (monitor_) monitor_->close();
}

void IngestReader::set_subscriptions(const std::vector<std::string>& prefixes) {
  const std::set<std::string> wanted(prefixes.begin(), prefixes.end());
  for (const std::string& prefix : subscribed_) {
    if (!wanted.contains(prefix)) socket_.set(zmq::sockopt::unsubscribe, prefix);
  }
  for (const std::string& prefix : wanted) {
    if (!subscribed_.contains(prefix)) socket_.set(zmq::sockopt::subscribe, prefix);
  }
  subscribed_ = wanted;
}

void IngestReader::start() {
  running_ = true;
  watcher_->watch([this] { drain(); });
}

void IngestReader::stop() {
  running_ = false;
  if (watcher_) watcher_->cancel();
}

void IngestReader::close() {
  stop();
  watcher_.reset();
  monitor_->close();
  socket_.close();
}

std::string_view IngestReader::sender_user_id() {
  const char* user_id = zmq_msg_gets(topic_.handle(), "User-Id");
  return user_id ? std::string_view(user_id) : std::string_view();
}

std::size_t IngestReader::discard_queued(std::size_t limit) {
  std::size_t n = 0;
  zmq::message_t part;
  while (n < limit && socket_.recv(part, zmq::recv_flags::dontwait)) {
    while (part.more() && socket_.recv(part, zmq::recv_flags::dontwait)) {
    }
    ++n;
  }
  return n;
}

void IngestReader::drain() {
  if (!running_) return;
  std::size_t n = 0;
  batch_bytes_ = 0;
  // A batch keeps a copy of each message until it commits (the committer may run it again), so
  // it ends at kBatchBytesBudget as well as at the message budget: large messages, small batches.
  while (n < budget_ && batch_bytes_ < kBatchBytesBudget) {
    if (n == 0) {
      // Peek cheaply whether anything is there before opening a batch.
      if (!(socket_.get(zmq::sockopt::events) & ZMQ_POLLIN)) break;
      handler_.on_batch_begin();
    }
    if (!read_one()) break;
    ++n;
  }
  if (n > 0) {
    ++counters_.batches;
    handler_.on_batch_end();
  }
  // With the budget spent, watch() finds POLLIN and posts, letting timers and signals run first.
  if (running_) watcher_->watch([this] { drain(); });
}

bool IngestReader::read_one() {
  if (!socket_.recv(topic_, zmq::recv_flags::dontwait)) return false;
  if (!topic_.more()) {
    refuse_frames(1, topic_.size() == 0 ? 1 : 0);
    return true;
  }
  // The frames of a multipart message arrive together, so the rest never has to be waited for.
  if (!socket_.recv(body_, zmq::recv_flags::dontwait)) {
    refuse_frames(1, 0);
    return true;
  }
  if (body_.more()) {
    std::size_t frames = 2;
    while (socket_.recv(extra_, zmq::recv_flags::dontwait)) {
      ++frames;
      if (!extra_.more()) break;
    }
    refuse_frames(frames, 0);
    return true;
  }
  if (topic_.size() == 0 || body_.size() == 0) {
    refuse_frames(2, (topic_.size() == 0) + (body_.size() == 0));
    return true;
  }
  ++counters_.messages;
  batch_bytes_ += topic_.size() + body_.size();
  handler_.on_message(topic_.to_string_view(), body_.to_string_view());
  return true;
}

std::string_view IngestReader::current_source() {
  // Metadata the ZMTP session attached to the message: the peer's IP for tcp:// connections.
  const char* peer = zmq_msg_gets(body_.handle(), "Peer-Address");
  const std::string_view address = peer ? std::string_view(peer) : std::string_view();
  if (source_.empty() || address != source_peer_) {
    source_peer_.assign(address);
    source_ = "ingest " + endpoint_;
    if (!address.empty()) source_ += " from " + source_peer_;
  }
  return source_;
}

void IngestReader::refuse_frames(std::size_t frames, std::size_t empty_frames) {
  ++counters_.bad_frames;
  if (!bad_frames_log_.admit()) return;
  const std::string topic(topic_.to_string_view().substr(0, 120));
  if (empty_frames > 0) {
    spdlog::warn(
        "ingest: rejected message (bad_frames): {} empty frame(s) on topic \"{}\"; expected [topic, "
        "body], both non-empty ({} similar suppressed)",
        empty_frames, topic, bad_frames_log_.suppressed());
  } else {
    spdlog::warn(
        "ingest: rejected message (bad_frames): {} frame(s) on topic \"{}\"; expected exactly 2 "
        "[topic, body] ({} similar suppressed)",
        frames, topic, bad_frames_log_.suppressed());
  }
}

}  // namespace vumi::transport
