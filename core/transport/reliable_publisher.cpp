#include "transport/reliable_publisher.hpp"

#include <deque>
#include <set>
#include <string_view>
#include <unordered_map>

#include "common/shard_hash.hpp"
#include "transport/reliable_ingest.hpp"
#include "transport/socket_options.hpp"

namespace vumi::transport {

namespace {

using Clock = std::chrono::steady_clock;

enum class State : std::uint8_t { pending, in_flight, done };

// What keeps messages together on one dispatcher: the account of an event, else the topic.
std::string_view route_key(std::string_view topic) {
  constexpr std::string_view kEvent = "event.";
  if (!topic.starts_with(kEvent)) return topic;
  const std::size_t end = topic.find('.', kEvent.size());
  return topic.substr(kEvent.size(),
                      end == std::string_view::npos ? std::string_view::npos : end - kEvent.size());
}

}  // namespace

ReliablePublisher::ReliablePublisher(zmq::context_t& context, const std::string& endpoint,
                                     const std::optional<CurveClientKeys>& curve)
    : ReliablePublisher(context, std::vector<std::string>{endpoint}, curve) {}

ReliablePublisher::ReliablePublisher(zmq::context_t& context, const std::vector<std::string>& endpoints,
                                     const std::optional<CurveClientKeys>& curve) {
  if (endpoints.empty()) throw std::runtime_error("reliable publisher: no endpoint to connect to");
  for (const std::string& endpoint : endpoints) {
    zmq::socket_t& socket = sockets_.emplace_back(context, zmq::socket_type::dealer);
    apply_reliable_publisher_options(socket);
    if (curve) apply_curve_client(socket, *curve);
    connect_endpoint(socket, endpoint);
  }
}

void ReliablePublisher::close() {
  for (zmq::socket_t& socket : sockets_) socket.close();
}

ReliableProgress ReliablePublisher::publish(const std::vector<ReliableMessage>& messages,
                                            const ReliableOptions& options) {
  ReliableProgress progress;
  progress.total = messages.size();
  const std::size_t endpoints = sockets_.size();
  std::vector<State> state(messages.size(), State::pending);
  std::vector<Clock::time_point> sent_at(messages.size());
  std::vector<std::size_t> sent_on(messages.size(), 0);    // the endpoint of its last send
  std::vector<std::size_t> not_owner(messages.size(), 0);  // not_owner answers to it so far
  std::unordered_map<std::string_view, std::size_t> by_id;
  by_id.reserve(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) by_id.emplace(messages[i].msg_id, i);
  // The endpoint each route key goes to now; first guess spread by hash, corrected by not_owner.
  std::unordered_map<std::string_view, std::size_t> endpoint_of;
  auto endpoint_for = [&](std::size_t i) -> std::size_t& {
    const std::string_view key = route_key(messages[i].topic);
    auto [it, added] = endpoint_of.try_emplace(key, 0);
    if (added) it->second = fnv1a_64(key) % endpoints;
    return it->second;
  };
  // Messages of each route key in flight, per endpoint.
  std::unordered_map<std::string_view, std::vector<std::size_t>> in_flight_by_key;
  auto in_flight_of = [&](std::size_t i) -> std::vector<std::size_t>& {
    auto [it, added] = in_flight_by_key.try_emplace(route_key(messages[i].topic));
    if (added) it->second.assign(endpoints, 0);
    return it->second;
  };
  // A message's send was answered or given up: it no longer holds its key's other messages back.
  auto landed = [&](std::size_t i) {
    --in_flight_of(i)[sent_on[i]];
    --progress.in_flight;
  };
  // Moves a message's route key on from the endpoint that failed it (unless it moved already).
  auto move_on = [&](std::size_t i) {
    std::size_t& endpoint = endpoint_for(i);
    if (endpoint == sent_on[i]) endpoint = (endpoint + 1) % endpoints;
  };
  // Waiting to be sent, in their original order (a resend goes before later messages of its account).
  std::set<std::size_t> to_send;
  for (std::size_t i = 0; i < messages.size(); ++i) to_send.insert(to_send.end(), i);
  // In send order, so the oldest unacknowledged send is at the front; stale entries are skipped.
  std::deque<std::pair<std::size_t, Clock::time_point>> sends;
  std::deque<std::pair<std::size_t, Clock::time_point>> paused;  // refused everywhere: until then
  std::vector<bool> sent_once(messages.size(), false);

  const auto start = Clock::now();
  auto next_progress = start + options.progress_interval;
  const std::size_t window = options.window == 0 ? 1 : options.window;
  zmq::message_t id_frame, status_frame, extra;
  std::vector<zmq::pollitem_t> items;
  for (zmq::socket_t& socket : sockets_) items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});

  while (progress.acknowledged < progress.total) {
    auto now = Clock::now();
    if (now - start >= options.deadline) break;
    while (!paused.empty() && paused.front().second <= now) {
      to_send.insert(paused.front().first);
      paused.pop_front();
    }

    // Fill the window. ZMQ_IMMEDIATE: with no dispatcher connected a send is refused, not queued;
    // the message's route key then tries the next endpoint, until every one refused in this turn.
    // A key with messages still in flight on another endpoint waits for their answers, so that its
    // messages reach the new endpoint in their order.
    std::size_t refused = 0;
    for (auto next = to_send.begin();
         next != to_send.end() && progress.in_flight < window && refused < endpoints;) {
      const std::size_t i = *next;
      if (state[i] != State::pending) {
        next = to_send.erase(next);
        continue;
      }
      const ReliableMessage& m = messages[i];
      std::size_t& endpoint = endpoint_for(i);
      std::vector<std::size_t>& flying = in_flight_of(i);
      bool elsewhere = false;
      for (std::size_t e = 0; e < endpoints; ++e) elsewhere = elsewhere || (e != endpoint && flying[e] != 0);
      if (elsewhere) {
        ++next;
        continue;
      }
      void* socket = sockets_[endpoint].handle();
      if (zmq_send(socket, m.topic.data(), m.topic.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) {
        endpoint = (endpoint + 1) % endpoints;
        ++refused;
        continue;
      }
      zmq_send(socket, m.body.data(), m.body.size(), ZMQ_SNDMORE);
      zmq_send(socket, m.msg_id.data(), m.msg_id.size(), 0);
      next = to_send.erase(next);
      state[i] = State::in_flight;
      sent_at[i] = now;
      sent_on[i] = endpoint;
      ++flying[endpoint];
      sends.emplace_back(i, now);
      ++progress.in_flight;
      if (sent_once[i]) ++progress.resent;
      sent_once[i] = true;
    }

    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(20));
    // Acknowledgements: [msg_id, status].
    std::vector<std::size_t> bounced;
    for (zmq::socket_t& socket : sockets_) {
      while (socket.recv(id_frame, zmq::recv_flags::dontwait)) {
        bool well_formed = id_frame.more() && socket.recv(status_frame, zmq::recv_flags::dontwait);
        bool more = well_formed && status_frame.more();
        while (more && socket.recv(extra, zmq::recv_flags::dontwait)) {
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
        if (status == ack_status::not_owner) {
          // Nothing was done with it: another dispatcher holds (or will hold) its account's shard.
          ++progress.not_owner;
          state[i] = State::pending;
          landed(i);
          move_on(i);
          if (++not_owner[i] % endpoints == 0)
            paused.emplace_back(i, now + kNotOwnerPause);
          else
            bounced.push_back(i);
          continue;
        }
        state[i] = State::done;
        landed(i);
        ++progress.acknowledged;
        if (status == ack_status::ok)
          ++progress.ok;
        else if (status == ack_status::duplicate)
          ++progress.duplicate;
        else
          ++progress.rejected;
      }
    }
    to_send.insert(bounced.begin(), bounced.end());

    // Resend what waited too long (a dispatcher that died or restarted lost it), elsewhere.
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
      landed(i);
      move_on(i);
      expired.push_back(i);
    }
    to_send.insert(expired.begin(), expired.end());

    if (options.on_progress && now >= next_progress) {
      options.on_progress(progress);
      next_progress = now + options.progress_interval;
    }
  }
  return progress;
}

}  // namespace vumi::transport
