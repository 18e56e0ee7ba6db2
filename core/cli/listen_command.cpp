// `vumi-dispatcher listen`: prints the dispatcher's outbound messages as JSON lines
// {"topic": ..., "body": <the body's JSON, or its text when it is not JSON>}.
#include <boost/json/serialize.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <zmq.hpp>

#include "cli/commands.hpp"
#include "cli/curve_args.hpp"
#include "common/json.hpp"
#include "transport/topic_subscriber.hpp"

namespace vumi::cli {

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void request_stop(int) {
  g_stop_requested = 1;
}

// SIGINT/SIGTERM end the listener with exit 0; no SA_RESTART, so a waiting poll returns EINTR.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

std::string json_line(const transport::ReceivedMessage& message) {
  boost::json::object line;
  line["topic"] = message.topic;
  json::bj::value body;
  json::ParseError err;
  if (json::parse(message.body, json::ParseLimits{}, body, err)) {
    line["body"] = std::move(body);
  } else {
    line["body"] = message.body;
  }
  return boost::json::serialize(line);
}

}  // namespace

int listen_command(const ListenArgs& args) {
  install_stop_handlers();
  zmq::context_t context(1);
  transport::TopicSubscriber subscriber(context, args.connect, args.topics, client_keys(args.curve));
  using clock = std::chrono::steady_clock;
  const auto deadline =
      args.timeout_s
          ? clock::now() + std::chrono::milliseconds(static_cast<long long>(*args.timeout_s * 1000))
          : clock::time_point::max();
  unsigned long received = 0;
  while (!g_stop_requested && (!args.count || received < *args.count)) {
    auto wait = std::chrono::milliseconds(1000);
    if (args.timeout_s) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0) break;
      wait = std::min(wait, left);
    }
    std::optional<transport::ReceivedMessage> message;
    try {
      message = subscriber.receive(wait);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    if (!message) continue;
    std::cout << json_line(*message) << std::endl;
    ++received;
  }
  if (args.count && received < *args.count && !g_stop_requested) {
    std::cerr << "listen: " << received << " of " << *args.count << " messages within " << *args.timeout_s
              << " s\n";
    return 3;
  }
  return 0;
}

}  // namespace vumi::cli
