// `vumi-dispatcher publish`: validates JSON lines as the dispatcher would, then publishes the good
// ones without loss (waits for the dispatcher's subscription, no-drop sends, lingers on close).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "cli/commands.hpp"
#include "cli/curve_args.hpp"
#include "common/derived_id.hpp"
#include "common/json.hpp"
#include "event/envelope_decoder.hpp"
#include "transport/reliable_publisher.hpp"
#include "transport/topic_derivation.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi::cli {

namespace {

struct Line {
  std::size_t number = 0;
  std::string topic;
  std::string body;
};

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Checks one line; on success fills line.topic, otherwise says why on stderr. Returns success.
bool validate(const event::EnvelopeDecoder& decoder, const std::optional<std::string>& topic_override,
              Line& line) {
  auto fail = [&line](const std::string& why) {
    std::cerr << "line " << line.number << ": " << why << "\n";
    return false;
  };
  if (topic_override) {
    line.topic = *topic_override;
  } else {
    json::bj::value parsed;
    json::ParseError err;
    if (!json::parse(line.body, json::ParseLimits{}, parsed, err))
      return fail("invalid_json: " + err.message);
    if (!parsed.is_object()) return fail("not_object: the body is " + std::string(json::type_name(parsed)));
    auto derived = transport::derive_topic(parsed.get_object());
    if (!derived) return fail(derived.error().text());
    line.topic = std::move(derived).value();
  }
  auto decoded = decoder.decode(line.topic, line.body);
  if (!decoded) return fail(decoded.error().text());
  return true;
}

// "tcp://a:1, tcp://b:2" for messages.
std::string endpoint_list(const std::vector<std::string>& endpoints) {
  std::string text;
  for (const std::string& endpoint : endpoints) text += (text.empty() ? "" : ", ") + endpoint;
  return text;
}

// --reliable: every good line to the DEALER, resent until acknowledged.
int publish_reliable(const PublishArgs& args, const std::vector<Line>& good, std::size_t rejected) {
  // msg_id = <digest of the good lines>:<line number, zero-padded>: publishing the same file again is
  // recognised by the dispatcher's ledger as duplicates, not run twice, and the ids of one file
  // sort together in the ledger's index, which keeps its inserts cheap.
  std::string content;
  for (const auto& line : good) content.append(line.topic).append(1, '\n').append(line.body).append(1, '\n');
  const std::string digest = derived_id({"publish", content}).substr(0, 16);
  std::vector<transport::ReliableMessage> messages;
  messages.reserve(good.size());
  char number[16];
  for (const auto& line : good) {
    std::snprintf(number, sizeof number, "%08zu", line.number);
    messages.push_back({line.topic, line.body, digest + ":" + number});
  }
  const auto curve = client_keys(args.curve);
  zmq::context_t context(1);
  transport::ReliablePublisher publisher(context, args.connect, curve);
  transport::ReliableOptions options;
  options.ack_timeout = std::chrono::milliseconds(static_cast<long long>(args.ack_timeout_s * 1000));
  options.window = args.window;
  options.deadline = std::chrono::milliseconds(static_cast<long long>(args.timeout_s * 1000));
  options.on_progress = [](const transport::ReliableProgress& p) {
    std::cerr << "publish: " << p.acknowledged << " of " << p.total << " acknowledged (" << p.in_flight
              << " in flight, " << p.resent << " resent, " << p.not_owner << " not_owner)" << std::endl;
  };
  const transport::ReliableProgress result = publisher.publish(messages, options);
  const std::string endpoints = endpoint_list(args.connect);
  std::cout << "acknowledged " << result.acknowledged << " of " << result.total
            << " message(s): " << result.ok << " ok, " << result.duplicate << " duplicate, "
            << result.rejected << " rejected; " << result.resent << " resent";
  if (result.not_owner > 0) std::cout << " (" << result.not_owner << " not_owner answers)";
  if (rejected > 0) std::cout << " (" << rejected << " line(s) rejected before sending: see above)";
  std::cout << std::endl;
  publisher.close();
  context.close();
  if (result.acknowledged < result.total) {
    std::cerr << "publish: " << (result.total - result.acknowledged) << " message(s) not acknowledged within "
              << args.timeout_s << " s (is `vumi-dispatcher run` bound at " << endpoints
              << " with ingest.reliable_bind?)\n";
    return 3;
  }
  return rejected > 0 || result.rejected > 0 ? 1 : 0;
}

}  // namespace

int publish_command(const PublishArgs& args) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (args.input != "-") {
    file.open(args.input);
    if (!file) {
      std::cerr << "publish: cannot read \"" << args.input << "\"\n";
      return 2;
    }
    in = &file;
  }

  // The dispatcher's decoder without its accounts: everything but account membership is checked.
  const event::EnvelopeDecoder decoder(event::DecodeLimits{}, nullptr);
  std::vector<Line> good;
  std::size_t rejected = 0;
  std::string text;
  for (std::size_t number = 1; std::getline(*in, text); ++number) {
    const std::string_view body = trim(text);
    if (body.empty()) continue;
    Line line{number, {}, std::string(body)};
    if (validate(decoder, args.topic, line)) {
      good.push_back(std::move(line));
    } else {
      ++rejected;
    }
  }
  auto summary = [&rejected](std::size_t sent) {
    std::cout << "sent " << sent << (sent == 1 ? " message" : " messages");
    if (rejected > 0) std::cout << " (" << rejected << " rejected: see above)";
    std::cout << std::endl;
  };
  if (good.empty()) {
    summary(0);
    return rejected > 0 ? 1 : 0;
  }
  if (args.reliable) return publish_reliable(args, good, rejected);

  zmq::context_t context(1);
  const auto curve = client_keys(args.curve);
  transport::WorkerPublisher publisher(context, args.connect.front(), std::chrono::seconds(30),
                                       std::chrono::seconds(30), curve);
  for (std::size_t i = 1; i < args.connect.size(); ++i) publisher.connect(args.connect[i]);
  const std::string endpoints = endpoint_list(args.connect);
  std::set<std::string> topic_set;
  for (const auto& line : good) topic_set.insert(line.topic);
  const std::vector<std::string> topics(topic_set.begin(), topic_set.end());
  const auto wait = std::chrono::milliseconds(static_cast<long long>(args.wait_s * 1000));
  if (!publisher.wait_for_subscriptions(topics, wait)) {
    if (publisher.subscriptions().empty()) {
      std::cerr << "publish: no dispatcher subscribed at " << endpoints << " within " << args.wait_s
                << " s (is `vumi-dispatcher run` bound there? see --wait"
                << (curve ? "; with CURVE the daemon refuses a key that is not among security.publishers, "
                            "and a --server-key that is not its key fails the handshake"
                          : "; a daemon with security.secret_key_file needs --key and --server-key")
                << "); nothing sent\n";
      return 3;
    }
  }
  std::size_t sent = 0;
  for (const auto& line : good) {
    if (!publisher.covered(line.topic)) {
      std::cerr << "line " << line.number << ": no subscriber at " << endpoints << " takes topic \""
                << line.topic << "\"; not sent\n";
      ++rejected;
      continue;
    }
    if (!publisher.send(line.topic, line.body)) {
      std::cerr << "publish: the dispatcher stopped taking messages (send timed out at line " << line.number
                << "); " << sent << " sent before that\n";
      summary(sent);
      return 3;
    }
    ++sent;
  }
  summary(sent);
  // Closing lingers until what was sent has been handed to the dispatcher (bounded by the linger).
  publisher.socket().close();
  context.close();
  return rejected > 0 ? 1 : 0;
}

}  // namespace vumi::cli
