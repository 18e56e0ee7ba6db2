// Publish one VumiApiEvent to vumi-dispatcher, as a conversation worker would, without loss.
// Uses only cppzmq (Debian's cppzmq-dev). Build: part of the CMake build (target cpp_worker), or
//   g++ -std=c++17 cpp_worker.cpp -lzmq -o cpp_worker
// Run: cpp_worker [--key worker.key --server-key daemon.pub] tcp://127.0.0.1:7710 [account
// conversation_key conversation_type event_type event_data_json]
// With --key the socket is a CURVE client (docs/security.md): the dispatcher admits it only when
// the worker's public key is among security.publishers.
// With --reliable, ENDPOINT is the dispatcher's ingest.reliable_bind (a ROUTER): the message is kept
// until the dispatcher acknowledges it after committing, and resent after each ack timeout.
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace {

// Waits until the dispatcher's subscription covering topic reaches this XPUB socket. Sending before
// it has arrived loses the message (the "slow joiner"); an XPUB receives it as "\x01" + prefix.
bool wait_for_subscription(zmq::socket_t& socket, const std::string& topic,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, left) == 0) return false;
    zmq::message_t subscription;
    if (!socket.recv(subscription, zmq::recv_flags::dontwait)) continue;
    const std::string text = subscription.to_string();
    if (!text.empty() && text[0] == '\x01' && topic.compare(0, text.size() - 1, text, 1) == 0) return true;
  }
}

// The Z85 key in a file written by `vumi-dispatcher keygen` (one line of 40 characters), or "".
std::string read_key(const std::string& file) {
  std::ifstream in(file);
  std::string key;
  in >> key;
  return key.size() == 40 ? key : std::string();
}

// Reliable ingest: sends [topic, body, msg_id] on a DEALER and resends it, with the same msg_id,
// every ack_timeout until the dispatcher answers [msg_id, status] ("retry" and a cluster member's
// "not_owner" wait for the next resend, which a DEALER connected to every dispatcher sends to the
// next one). Returns the final status ("ok", "duplicate", "rejected"), or "" at the deadline.
std::string publish_reliably(zmq::context_t& context, const std::string& endpoint, const std::string& topic,
                             const std::string& body, const std::string& msg_id,
                             std::chrono::milliseconds ack_timeout, std::chrono::milliseconds deadline) {
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::immediate,
             1);                        // no dispatcher connected: wait, do not queue into a dead connection
  socket.set(zmq::sockopt::linger, 0);  // what is not acknowledged is resent, never flushed on close
  socket.connect(endpoint);
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + deadline;
  auto last_send = Clock::time_point{};
  bool sent = false;
  while (Clock::now() < give_up) {
    if (!sent || Clock::now() - last_send > ack_timeout) {
      if (socket.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        socket.send(zmq::buffer(body), zmq::send_flags::sndmore);
        socket.send(zmq::buffer(msg_id), zmq::send_flags::none);
        sent = true;
        last_send = Clock::now();
      }
    }
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
    zmq::message_t id, status;
    if (!socket.recv(id, zmq::recv_flags::dontwait) || !id.more() ||
        !socket.recv(status, zmq::recv_flags::dontwait))
      continue;
    if (id.to_string() == msg_id && status.to_string() != "retry" && status.to_string() != "not_owner")
      return status.to_string();
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string key_file, server_key_file;
  std::vector<std::string> args;
  bool reliable = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reliable") {
      reliable = true;
    } else if ((arg == "--key" || arg == "--server-key") && i + 1 < argc) {
      (arg == "--key" ? key_file : server_key_file) = argv[++i];
    } else {
      args.push_back(arg);
    }
  }
  if ((args.size() != 1 && args.size() != 6) || key_file.empty() != server_key_file.empty()) {
    std::cerr << "usage: cpp_worker [--reliable] [--key NAME.key --server-key DAEMON.pub] ENDPOINT [account "
                 "conversation_key conversation_type event_type event_data_json]\n";
    return 2;
  }
  const bool all = args.size() == 6;
  const std::string endpoint = args[0];
  const std::string account = all ? args[1] : "acct1";
  const std::string conversation_key = all ? args[2] : "poll1";
  const std::string conversation_type = all ? args[3] : "vxpolls";
  const std::string event_type = all ? args[4] : "poll_complete";
  const std::string event_data = all ? args[5] : R"({"from_addr":"+27831234567","answers":{"name":"Sipho"}})";

  // Identifiers match [A-Za-z0-9_:-]{1,128}, so they need no JSON escaping here.
  const std::string topic = "event." + account + "." + conversation_type + "." + event_type;
  const std::string body = R"({"account_key":")" + account + R"(","conversation_key":")" + conversation_key +
                           R"(","conversation_type":")" + conversation_type + R"(","event_type":")" +
                           event_type + R"(","event_data":)" + event_data + "}";

  zmq::context_t context(1);
  if (reliable) {
    // Unique across every worker that publishes to this dispatcher, and the same on a resend.
    std::random_device random;
    const std::string msg_id = "cpp_worker:" + std::to_string(random()) + std::to_string(random());
    const std::string status = publish_reliably(context, endpoint, topic, body, msg_id,
                                                std::chrono::seconds(5), std::chrono::seconds(60));
    if (status.empty()) {
      std::cerr << "no acknowledgement from " << endpoint << " within 60 s\n";
      return 3;
    }
    std::cout << "published " << topic << ": " << status << "\n";
    return status == "ok" || status == "duplicate" ? 0 : 1;
  }
  zmq::socket_t socket(context, zmq::socket_type::xpub);
  socket.set(zmq::sockopt::xpub_nodrop, 1);   // at the high-water mark, wait instead of dropping
  socket.set(zmq::sockopt::sndtimeo, 10000);  // ...but not forever
  socket.set(zmq::sockopt::linger, 5000);     // on close, keep flushing for up to 5 s
  if (!key_file.empty()) {
    const std::string secret = read_key(key_file);
    const std::string server = read_key(server_key_file);
    if (secret.empty() || server.empty()) {
      std::cerr << "--key and --server-key must name key files written by `vumi-dispatcher keygen`\n";
      return 2;
    }
    char public_key[41];
    zmq_curve_public(public_key, secret.c_str());  // the public half, derived from the secret
    socket.set(zmq::sockopt::curve_secretkey, secret);
    socket.set(zmq::sockopt::curve_publickey, std::string(public_key));
    socket.set(zmq::sockopt::curve_serverkey, server);
  }
  socket.connect(endpoint);
  if (!wait_for_subscription(socket, topic, std::chrono::seconds(5))) {
    std::cerr << "no dispatcher subscribed at " << endpoint << " within 5 s\n";
    return 3;
  }
  if (!socket.send(zmq::buffer(topic), zmq::send_flags::sndmore) ||
      !socket.send(zmq::buffer(body), zmq::send_flags::none)) {
    std::cerr << "the dispatcher did not take the message within 10 s\n";
    return 3;
  }
  std::cout << "published " << topic << "\n";
  socket.close();  // lingers until the message has been handed to the dispatcher
  return 0;
}
