#include "transport/reliable_publisher.hpp"

#include <deque>
#include <string_view>
#include <unordered_map>

#include "transport/reliable_ingest.hpp"
#include "transport/socket_options.hpp"

namespace vumi::transport {

namespace {

using Clock = std::chrono::steady_clock;

enum class State : std::uint8_t { pending, in_flight, done };

}  // namespace

ReliablePublisher::ReliablePublisher(zmq::context_t& context, const std::string& endpoint,
                                     const std::optional<CurveClientKeys>& curve)
    : socket_(context, zmq::socket_type::dealer) {
  apply_reliable_publisher_options(socket_);
  if (curve) apply_curve_client(socket_, *curve);
  connect_endpoint(socket_, endpoint);
}

ReliableProgress ReliablePublisher::publish(const std::vector<ReliableMessage>& messages,
                                            const ReliableOptions& options) {
  ReliableProgress progress;
  progress.total = messages.size();
  std::vector<State> state(messages.size(), State::pending);
  std::vector<Clock::time_point> sent_at(messages.size());
  std::unordered_map<std::string_view, std::size_t> by_id;
  by_id.reserve(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) by_id.emplace(messages[i].msg_id, i);
  std::deque<std::size_t> to_send;
  for (std::size_t i = 0; i < messages.size(); ++i) to_send.push_back(i);
  // In send order, so the oldest unacknowledged send is at the front; stale entries are skipped.
  std::deque<std::pair<std::size_t, Clock::time_point>> sends;
  std::vector<bool> sent_once(messages.size(), false);

  const auto start = Clock::now();
  auto next_progress = start + options.progress_interval;
  const std::size_t window = options.window == 0 ? 1 : options.window;
  zmq::message_t id_frame, status_frame, extra;

  while (progress.acknowledged < progress.total) {
    auto now = Clock::now();
    if (now - start >= options.deadline) break;

    // Fill the window. ZMQ_IMMEDIATE: with no dispatcher connected a send is refused, not queued.
    while (progress.in_flight < window && !to_send.empty()) {
      const std::size_t i = to_send.front();
      if (state[i] != State::pending) {
        to_send.pop_front();
        continue;
      }
      const ReliableMessage& m = messages[i];
      if (zmq_send(socket_.handle(), m.topic.data(), m.topic.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) break;
      zmq_send(socket_.handle(), m.body.data(), m.body.size(), ZMQ_SNDMORE);
      zmq_send(socket_.handle(), m.msg_id.data(), m.msg_id.size(), 0);
      to_send.pop_front();
      state[i] = State::in_flight;
      sent_at[i] = now;
      sends.emplace_back(i, now);
      ++progress.in_flight;
      if (sent_once[i]) ++progress.resent;
      sent_once[i] = true;
    }

    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(20));
    // Acknowledgements: [msg_id, status].
    while (socket_.recv(id_frame, zmq::recv_flags::dontwait)) {
      bool well_formed = id_frame.more() && socket_.recv(status_frame, zmq::recv_flags::dontwait);
      bool more = well_formed && status_frame.more();
      while (more && socket_.recv(extra, zmq::recv_flags::dontwait)) {
        more = extra.more();
        well_formed = false;
      }
      if (!well_formed) continue;
      auto found = by_id.find(id_frame.to_string_view());
      if (found == by_id.end()) continue;
      const std::size_t i = found->second;
      if (state[i] != State::in_flight) continue;  // an answer to an earlier send of it
      const std::string_view status = status_frame.to_string_view();
      now = Clock::now();
      if (status == ack_status::retry) {
        // The dispatcher could not commit it: send again after the ack timeout.
        sent_at[i] = now;
        sends.emplace_back(i, now);
        continue;
      }
      state[i] = State::done;
      --progress.in_flight;
      ++progress.acknowledged;
      if (status == ack_status::ok)
        ++progress.ok;
      else if (status == ack_status::duplicate)
        ++progress.duplicate;
      else
        ++progress.rejected;
    }

    // Resend what waited too long (a dispatcher that died or restarted lost it).
    now = Clock::now();
    std::vector<std::size_t> expired;
    while (!sends.empty()) {
      const auto [i, when] = sends.front();
      if (state[i] != State::in_flight || sent_at[i] != when) {
        sends.pop_front();
        continue;
      }
      if (now - when < options.ack_timeout) break;
      sends.pop_front();
      state[i] = State::pending;
      --progress.in_flight;
      expired.push_back(i);
    }
    to_send.insert(to_send.begin(), expired.begin(), expired.end());

    if (options.on_progress && now >= next_progress) {
      options.on_progress(progress);
      next_progress = now + options.progress_interval;
    }
  }
  return progress;
}

}  // namespace vumi::transport
