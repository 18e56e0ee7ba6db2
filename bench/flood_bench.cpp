// What a flood of bad input costs: N malformed messages (several rejection kinds, one source)
// interleaved with good ones, published as fast as the daemon takes them. Reports the growth of
// the state folder (vumi.db, -wal, -shm; peak while flooding and after a clean stop), the bytes
// and lines of the daemon's log, and how many good messages were delivered (all must be).
// Usage: flood_bench [--bad N] [--good-every K]   (defaults: 1,000,000 bad, 1 good per 100 bad)
#include <cstdio>
#include <iostream>
#include <string>

#include "daemon_child.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace {

using bench_support::DaemonChild;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::uint64_t folder_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  return total;
}

std::uint64_t line_count(const fs::path& file) {
  std::ifstream in(file);
  std::uint64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::string event(const std::string& account, const std::string& type, const std::string& data) {
  return R"({"account_key":")" + account +
         R"(","conversation_key":"conv1","conversation_type":"survey","event_type":")" + type +
         R"(","event_data":)" + data + "}";
}

int run(std::uint64_t bad, std::uint64_t good_every) {
  const fs::path dir = fs::temp_directory_path() / ("vumi-flood-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path config = dir / "flood.json";
  std::ofstream(config) << R"({
  "ingest": { "bind": "tcp://127.0.0.1:0" }, "outbound": { "bind": "tcp://127.0.0.1:*" },
  "state_dir": ")" << (dir / "state").string()
                        << R"(", "plugin_path": [")" << VUMI_PLUGIN_DIR << R"(/example.so"],
  "limits": { "max_body_bytes": 4096 },
  "handlers": { "emit": { "type": "emit_event" } },
  "accounts": { "acct1": { "conversations": { "conv1": "survey" }, "tags": ["longcode:1"], "routes": [
    { "on": { "event_type": "ping" }, "chain": [
      { "handler": "emit", "config": { "event_type": "pinged", "event_data": { "n": "{{/event/event_data/n}}" } } } ] } ] } } })";
  const fs::path log = dir / "daemon.log";
  DaemonChild daemon(VUMI_DISPATCHER_EXE, config, log);
  auto listening = daemon.wait_for("listening: ingest ", 30s);
  if (!listening) throw std::runtime_error("the daemon did not start; see " + log.string());
  const auto at = listening->find("listening: ingest ") + 18;
  const std::string ingest = listening->substr(at, listening->find(',', at) - at);
  const std::string outbound = listening->substr(listening->find("outbound ") + 9);
  const std::uint64_t db_before = folder_bytes(dir / "state");
  const std::uint64_t log_before = fs::file_size(log);

  zmq::context_t context(1);
  vumi::transport::WorkerPublisher pub(context, ingest);
  if (!pub.wait_for_subscriptions({"event.", "inbound."}, 10s)) throw std::runtime_error("no subscription");
  vumi::transport::TopicSubscriber sub(context, outbound, {"event.acct1.survey.pinged"});
  if (!daemon.wait_for("outbound: subscribe", 10s)) throw std::runtime_error("no outbound subscription");

  // One source, five kinds of refusal (the decoder's and the router's).
  const std::string topic = "event.acct1.survey.ping";
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {topic, R"({"account_key": )"},                                                   // invalid_json
      {"event.nobody.survey.ping", event("nobody", "ping", "{}")},                      // unknown_account
      {topic, event("acct1", "ping", R"({"pad":")" + std::string(5000, 'x') + "\"}")},  // too_large
      {topic, "{\"account_key\":\"acct1\xff\"}"},                                       // invalid_utf8
      {"inbound.sms",
       R"({"message_version":"20110921","message_type":"user_message","message_id":"m1",)"
       R"("to_addr":"9","from_addr":"+271","content":"hi","transport_name":"sms",)"
       R"("transport_type":"sms","helper_metadata":{"tag":{"tag":["longcode","999"]}}})"},  // unowned_tag
  };
  std::uint64_t peak = db_before, good_sent = 0, good_received = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < bad; ++i) {
    const auto& kind = kinds[i % kinds.size()];
    if (!pub.send(kind.first, kind.second)) throw std::runtime_error("send timed out");
    if ((i + 1) % good_every == 0) {
      pub.send(topic, event("acct1", "ping", R"({"n":)" + std::to_string(good_sent) + "}"));
      ++good_sent;
    }
    if ((i + 1) % 50'000 == 0) peak = std::max(peak, folder_bytes(dir / "state"));
    while (sub.receive(0ms)) ++good_received;
  }
  // The daemon handles ingest in order: when the last good one is back, everything was handled.
  pub.send(topic, event("acct1", "ping", R"({"n":-1})"));
  const auto deadline = std::chrono::steady_clock::now() + 600s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = sub.receive(1s);
    if (!got) continue;
    if (got->body.find("\"n\":-1") != std::string::npos) break;
    ++good_received;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  peak = std::max(peak, folder_bytes(dir / "state"));
  const int code = daemon.stop();
  const std::uint64_t db_after = folder_bytes(dir / "state");
  const std::uint64_t log_bytes = fs::file_size(log) - log_before;

  std::printf("bad messages          %llu (5 kinds, one source), good %llu (1 per %llu), %.1f s\n",
              static_cast<unsigned long long>(bad), static_cast<unsigned long long>(good_sent),
              static_cast<unsigned long long>(good_every), seconds);
  std::printf("good delivered        %llu of %llu\n", static_cast<unsigned long long>(good_received),
              static_cast<unsigned long long>(good_sent));
  std::printf("state folder          %llu bytes before, peak %llu while flooding, %llu after stop\n",
              static_cast<unsigned long long>(db_before), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(db_after));
  std::printf("log                   %llu bytes, %llu lines in all (%s)\n",
              static_cast<unsigned long long>(log_bytes), static_cast<unsigned long long>(line_count(log)),
              log.c_str());
  std::printf("daemon exit           %d\n", code);
  return good_received == good_sent && code == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t bad = 1'000'000, good_every = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--bad")
      bad = std::stoull(argv[i + 1]);
    else if (flag == "--good-every")
      good_every = std::stoull(argv[i + 1]);
    else {
      std::cerr << "usage: flood_bench [--bad N] [--good-every K]\n";
      return 2;
    }
  }
  try {
    return run(bad, good_every == 0 ? 100 : good_every);
  } catch (const std::exception& e) {
    std::cerr << "flood_bench: " << e.what() << '\n';
    return 1;
  }
}
