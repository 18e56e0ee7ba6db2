// Throughput and latency of vumi-dispatcher on real sockets, against raw ZeroMQ on the same machine.
// The full-speed cases (a), (b) and (d) publish from a publisher process of their own (this program
// again, `--publisher`), which builds its messages before the clock starts and sends them through
// an XPUB with no-drop: the raw case and the daemon face the very same sender.
//   (a) raw: the publisher process -> a bare SUB in this process, tcp loopback;
//   (b) the daemon: the same publisher process sends the events at full speed through ingest ->
//       decode -> route -> a two-step chain of `noop` handlers (the example plugin, through the
//       ABI), then a marker event; timed until the marker comes back on outbound, and checked
//       against the daemon's own counters;
//   (c0) the floor for (c): the same paced events through a bare ZeroMQ relay thread (SUB -> PUB),
//       what the machine and two ZeroMQ hops cost without the daemon;
//   (c) end-to-end latency (publish -> outbound) at a fixed offered rate, 10% of (b), through the
//       chain [noop, emit_event];
//   (d) (a) and (b) again with CURVE (docs/security.md): raw CURVE sockets, then a daemon with
//       security.secret_key_file and the publisher's rights checked on every message; the ratio
//       CURVE/plain of each.
//   (e) the same events as (b) through reliable ingest (ingest.reliable_bind, a DEALER keeping
//       20,000 in flight), timed until the last one is acknowledged, i.e. committed: the cost of
//       durability is (e)/(b). Both paths write the processed-message ledger and the outbox.
//   Then the state database's size per event handled (the ledger's disk cost).
// Usage: throughput_bench [--messages N] [--latency-seconds S] [--latency-rate EVENTS_PER_S]
//                         [--latency-dump FILE]
//   (scripts/bench runs it; --latency-rate fixes (c)'s offered rate, by default 10% of (b);
//   --latency-dump writes every echo of (c0) and (c): "<c0|c> <sent us> <latency us>" per line)
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_child.hpp"
#include "transport/curve_keys.hpp"
#include "transport/reliable_publisher.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

using bench_support::DaemonChild;

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kTopic = "event.acct1.survey.bench";

// A poll-completion-sized event (~300 bytes), numbered.
std::string event_body(const std::string& event_type, const std::string& event_data) {
  return R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey","event_type":")" +
         event_type + R"(","timestamp":"2026-11-27 03:39:50.123456","event_data":)" + event_data + "}";
}

std::string bench_event(std::uint64_t n) {
  return event_body("bench", R"({"from_addr":"+27831234567","to_addr":"12345","answers":{"name":"Thandi",)"
                             R"("age":"34","q3":"yes"},"n":)" +
                                 std::to_string(n) + "}");
}

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// How many distinct messages the publisher builds before the clock starts; it sends them in turn.
constexpr std::uint64_t kPrebuilt = 65'536;

// The publisher process (`throughput_bench --publisher ENDPOINT COUNT MARK [CLIENT_PUB CLIENT_SECRET
// SERVER_PUB]`): builds its messages, connects a no-drop XPUB, waits for the subscription, prints
// "start <steady-clock ns>", sends COUNT bench events (then, with MARK 1, one `mark` event on the
// same socket, so it arrives after them) and stays until every message left (linger).
int publisher_main(int argc, char** argv) {
  if (argc != 5 && argc != 8) {
    std::cerr
        << "usage: throughput_bench --publisher ENDPOINT COUNT MARK [CLIENT_PUB CLIENT_SECRET SERVER_PUB]\n";
    return 2;
  }
  const std::string endpoint = argv[2];
  const std::uint64_t count = std::stoull(argv[3]);
  const bool mark = std::string(argv[4]) == "1";
  std::optional<vumi::transport::CurveClientKeys> curve;
  if (argc == 8) curve = vumi::transport::CurveClientKeys{{argv[5], argv[6]}, argv[7]};
  std::vector<std::string> bodies;
  bodies.reserve(std::min(count, kPrebuilt));
  for (std::uint64_t i = 0; i < std::min(count, kPrebuilt); ++i) bodies.push_back(bench_event(i));
  const std::string mark_body = event_body("mark", "{}");
  zmq::context_t context(1);
  vumi::transport::WorkerPublisher pub(context, endpoint, 120s, 120s, curve);
  if (!pub.wait_for_subscriptions({kTopic}, 10s)) {
    std::cerr << "publisher: no subscription from " << endpoint << "\n";
    return 1;
  }
  std::printf("start %lld\n", static_cast<long long>(clock_type::now().time_since_epoch().count()));
  std::fflush(stdout);
  for (std::uint64_t i = 0; i < count; ++i)
    if (!pub.send(kTopic, bodies[i % bodies.size()])) return 1;
  if (mark && !pub.send("event.acct1.survey.mark", mark_body)) return 1;
  return 0;
}

// The publisher as a child process; start() is when it began sending (steady clock, which is
// CLOCK_MONOTONIC and so the same in both processes).
class PublisherChild {
 public:
  PublisherChild(const std::string& endpoint, std::uint64_t count, bool mark,
                 const std::optional<vumi::transport::CurveClientKeys>& curve = {}) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("publisher: pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> args{"/proc/self/exe", "--publisher", endpoint, std::to_string(count),
                                  mark ? "1" : "0"};
    if (curve) {
      args.push_back(curve->own.public_key);
      args.push_back(curve->own.secret_key);
      args.push_back(curve->server_public_key);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) throw std::runtime_error("publisher: cannot start /proc/self/exe");
    out_ = fdopen(fds[0], "r");
  }
  ~PublisherChild() {
    if (out_) fclose(out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // When the publisher began sending; throws when it exited without starting.
  clock_type::time_point start() {
    long long ns = 0;
    if (std::fscanf(out_, "start %lld", &ns) != 1) throw std::runtime_error("publisher: did not start");
    return clock_type::time_point(clock_type::duration(ns));
  }
  // Waits for the publisher to exit; true when it sent everything.
  bool finish() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// (a) raw ZeroMQ: a SUB binds like the daemon's ingest and receives, the publisher process
// connects and sends; with curve, both are CURVE sockets (no ZAP handler: any client key is accepted).
double raw_throughput(std::uint64_t count, const std::optional<vumi::transport::CurveClientKeys>& curve = {},
                      const std::string& server_secret = {}) {
  zmq::context_t sub_context(1);
  zmq::socket_t sub(sub_context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvhwm, 100'000);
  if (curve) {
    sub.set(zmq::sockopt::curve_server, 1);
    sub.set(zmq::sockopt::curve_secretkey, server_secret);
  }
  sub.set(zmq::sockopt::subscribe, "event.");
  sub.bind("tcp://127.0.0.1:*");
  PublisherChild publisher(sub.get(zmq::sockopt::last_endpoint), count, false, curve);
  zmq::message_t topic, body;
  for (std::uint64_t received = 0; received < count;) {
    if (!sub.recv(topic) || !topic.more() || !sub.recv(body)) continue;
    ++received;
  }
  const auto done = clock_type::now();
  const auto start = publisher.start();
  if (!publisher.finish()) throw std::runtime_error("raw: the publisher failed");
  return static_cast<double>(count) / seconds_between(start, done);
}

std::uint64_t counter(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  return at == std::string::npos ? 0 : std::stoull(line.substr(at + key.size() + 2));
}

std::string after(const std::string& line, const std::string& marker, char end) {
  const auto a = line.find(marker) + marker.size();
  return line.substr(a, line.find(end, a) - a);
}

struct Percentiles {
  double p50_us, p99_us, p999_us;
};

Percentiles percentiles(std::vector<std::int64_t> ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return static_cast<double>(ns[static_cast<std::size_t>(q * (ns.size() - 1))]) / 1000;
  };
  return {at(0.5), at(0.99), at(0.999)};
}

// Sends body on topic until it comes back on `echoes` (at most 100 tries, 100 ms apart: the
// subscription must reach the far PUB first), then drains what else came back. Returns how
// many were sent (each one the daemon runs as a chain) and whether one came back.
struct Probed {
  std::uint64_t sent = 0;
  bool seen = false;
};
Probed probe_until_echoed(vumi::transport::WorkerPublisher& pub, const std::string& topic,
                          const std::string& body, vumi::transport::TopicSubscriber& echoes) {
  Probed probed;
  while (!probed.seen && probed.sent < 100) {
    pub.send(topic, body);
    ++probed.sent;
    probed.seen = echoes.receive(100ms).has_value();
  }
  while (echoes.receive(200ms)) {
  }
  return probed;
}

// (d) the daemon with CURVE on both sockets: events/s through the same chain, publisher's rights
// checked per message. Throws unless the daemon's counters account for every event.
double curve_daemon_throughput(const fs::path& dir, std::uint64_t count, const std::string& plain_config) {
  const auto daemon_keys = vumi::transport::generate_curve_keypair();
  const auto worker_keys = vumi::transport::generate_curve_keypair();
  const auto listener_keys = vumi::transport::generate_curve_keypair();
  vumi::transport::write_curve_keypair(dir / "daemon", daemon_keys);
  std::string config = plain_config;
  const std::string state = (dir / "state").string();
  config.replace(config.find(state), state.size(), (dir / "curve-state").string());
  config.insert(config.find("\"handlers\""),
                R"("security": { "secret_key_file": ")" + (dir / "daemon.key").string() +
                    R"(", "publishers": { ")" + worker_keys.public_key +
                    R"(": { "name": "bench", "accounts": ["acct1"] } }, "subscribers": { ")" +
                    listener_keys.public_key + R"(": ["event.acct1."] } },
  )");
  std::ofstream(dir / "curve.json") << config;
  DaemonChild daemon(VUMI_DISPATCHER_EXE, dir / "curve.json", dir / "curve.log");
  auto listening = daemon.wait_for("listening: ingest ", 30s);
  if (!listening)
    throw std::runtime_error("CURVE daemon did not start; its log is in " + (dir / "curve.log").string());
  zmq::context_t context(1);
  vumi::transport::WorkerPublisher pub(context, after(*listening, "listening: ingest ", ','), 30s, 30s,
                                       vumi::transport::CurveClientKeys{worker_keys, daemon_keys.public_key});
  if (!pub.wait_for_subscriptions({kTopic}, 10s)) throw std::runtime_error("CURVE daemon: no subscription");
  vumi::transport::TopicSubscriber marks(
      context, after(*listening, ", outbound ", '\n'), {"event.acct1.survey.marked"},
      vumi::transport::CurveClientKeys{listener_keys, daemon_keys.public_key});
  const std::uint64_t probes =
      probe_until_echoed(pub, "event.acct1.survey.mark", event_body("mark", "{}"), marks).sent;
  PublisherChild publisher(after(*listening, "listening: ingest ", ','), count, true,
                           vumi::transport::CurveClientKeys{worker_keys, daemon_keys.public_key});
  if (!marks.receive(120s)) throw std::runtime_error("CURVE daemon: marker never came back");
  const auto done = clock_type::now();
  const double rate = static_cast<double>(count) / seconds_between(publisher.start(), done);
  if (!publisher.finish()) throw std::runtime_error("CURVE daemon: the publisher failed");
  const int code = daemon.stop();
  auto stopped = daemon.wait_for("stopped: ", 5s);
  if (code != 0 || !stopped || counter(*stopped, "chains") != count + probes + 1)
    throw std::runtime_error("CURVE daemon: counters do not account for every event; log in " +
                             (dir / "curve.log").string());
  return rate;
}

// One echo of a paced event: when it was sent (steady clock, ns) and how long it took to come back.
struct Echo {
  std::int64_t sent_ns;
  std::int64_t latency_ns;
};

// Sends count events of event_type on topic at a fixed rate, each carrying its send time in
// event_data.t, and times their echoes on `echoes` (which must carry t back). Stops early when
// no echo comes for 10 s.
std::vector<Echo> paced_latencies(vumi::transport::WorkerPublisher& pub,
                                  vumi::transport::TopicSubscriber& echoes, const std::string& topic,
                                  const std::string& event_type, double rate, std::uint64_t count) {
  std::vector<Echo> out;
  out.reserve(count);
  std::thread receiver([&] {
    while (out.size() < count) {
      auto got = echoes.receive(10s);
      if (!got) break;
      const auto now = clock_type::now().time_since_epoch().count();
      const auto t = std::stoll(after(got->body, "\"t\":", '}'));
      out.push_back({t, now - t});
    }
  });
  const auto paced_start = clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto due = paced_start + std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * i / rate));
    std::this_thread::sleep_until(due);
    const auto t = clock_type::now().time_since_epoch().count();
    pub.send(topic, event_body(event_type, R"({"from_addr":"+27831234567","t":)" + std::to_string(t) + "}"));
  }
  receiver.join();
  return out;
}

// (c0): paced events through a relay thread with a ZeroMQ context of its own (like the daemon's
// process): a SUB bound like ingest, forwarding each message unchanged on a bound PUB. Its
// latencies are what the machine, the scheduler and two ZeroMQ hops cost without any dispatching.
std::vector<Echo> raw_relay_latencies(double rate, std::uint64_t count) {
  zmq::context_t relay_context(1);
  zmq::socket_t in(relay_context, zmq::socket_type::sub);
  zmq::socket_t out(relay_context, zmq::socket_type::pub);
  in.set(zmq::sockopt::subscribe, "event.");
  in.set(zmq::sockopt::rcvtimeo, 100);
  in.bind("tcp://127.0.0.1:*");
  out.bind("tcp://127.0.0.1:*");
  std::atomic<bool> relaying{true};
  std::thread relay([&] {
    zmq::message_t topic, body;
    while (relaying.load(std::memory_order_relaxed)) {
      if (!in.recv(topic) || !topic.more() || !in.recv(body)) continue;
      out.send(topic, zmq::send_flags::sndmore);
      out.send(body, zmq::send_flags::none);
    }
  });
  zmq::context_t context(1);
  vumi::transport::WorkerPublisher pub(context, in.get(zmq::sockopt::last_endpoint));
  vumi::transport::TopicSubscriber echoes(context, out.get(zmq::sockopt::last_endpoint), {"event."});
  std::vector<Echo> echoed;
  if (pub.wait_for_subscriptions({kTopic}, 10s)) {
    if (probe_until_echoed(pub, kTopic, event_body("probe", R"({"t":0})"), echoes).seen)
      echoed = paced_latencies(pub, echoes, kTopic, "lat", rate, count);
  }
  relaying = false;
  relay.join();
  return echoed;
}

// Prints p50/p99/p99.9 of one latency case; with dump open, writes each echo to it as
// "<case> <sent, us since the case's first send> <latency us>".
void report_latencies(const std::string& name, const std::string& path, double rate, double daemon_rate,
                      std::uint64_t count, const std::vector<Echo>& echoes, std::ofstream& dump) {
  if (echoes.size() < count) {
    std::printf("%s: only %zu of %llu echoes arrived\n", name.c_str(), echoes.size(),
                static_cast<unsigned long long>(count));
    return;
  }
  std::vector<std::int64_t> ns;
  ns.reserve(echoes.size());
  for (const Echo& e : echoes) ns.push_back(e.latency_ns);
  const auto p = percentiles(std::move(ns));
  std::printf(
      "%s at %.0f events/s offered (%.0f%% of (b)), %llu events, %s:\n"
      "    p50 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
      name.c_str(), rate, 100 * rate / daemon_rate, static_cast<unsigned long long>(count), path.c_str(),
      p.p50_us, p.p99_us, p.p999_us);
  if (!dump.is_open()) return;
  const std::string label = name.substr(1, name.find(')') - 1);
  for (const Echo& e : echoes)
    dump << label << ' ' << (e.sent_ns - echoes.front().sent_ns) / 1000 << ' ' << e.latency_ns / 1000 << '\n';
}

int run(std::uint64_t count, double latency_seconds, double latency_rate, const std::string& latency_dump) {
  const fs::path dir = fs::temp_directory_path() / ("vumi-throughput-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path config = dir / "bench.json";
  std::ostringstream config_text;
  config_text << R"({
  "ingest": { "bind": "tcp://127.0.0.1:0", "reliable_bind": "tcp://127.0.0.1:*" }, "outbound": { "bind": "tcp://127.0.0.1:*" },
  "state_dir": ")"
              << (dir / "state").string() << R"(", "plugin_path": [")" VUMI_PLUGIN_DIR R"(/example.so"],
  "handlers": { "a": { "type": "noop" }, "b": { "type": "noop" }, "emit": { "type": "emit_event" } },
  "accounts": { "acct1": { "conversations": { "conv1": "survey" }, "routes": [
    { "on": { "event_type": "bench" }, "chain": [ { "handler": "a" }, { "handler": "b" } ] },
    { "on": { "event_type": "mark" }, "chain": [ { "handler": "a" },
        { "handler": "emit", "config": { "event_type": "marked", "event_data": {} } } ] },
    { "on": { "event_type": "lat" }, "chain": [ { "handler": "a" },
        { "handler": "emit", "config": { "event_type": "lat_out", "event_data": { "t": "{{/event/event_data/t}}" } } } ] }
  ] } } })";
  std::ofstream(config) << config_text.str();

  const std::string sample = bench_event(count);
  std::printf("messages: %llu events, body %zu bytes, topic %s, 2 frames [topic, body]\n",
              static_cast<unsigned long long>(count), sample.size(), kTopic.c_str());

  const double raw = raw_throughput(count);
  std::printf("(a) raw ZeroMQ, publisher process XPUB(no-drop) -> SUB:   %10.0f msg/s\n", raw);

  DaemonChild daemon(VUMI_DISPATCHER_EXE, config, dir / "daemon.log");
  auto listening = daemon.wait_for("listening: ingest ", 30s);
  if (!listening) {
    std::cerr << "daemon did not start; its log is in " << (dir / "daemon.log") << "\n";
    return 1;
  }
  const std::string ingest = after(*listening, "listening: ingest ", ',');
  const std::string outbound = after(*listening, ", outbound ", '\n');
  const std::string reliable =
      after(daemon.wait_for("reliable ingest: bound at ", 5s).value_or(""), "bound at ", '\n');

  zmq::context_t context(1);
  vumi::transport::WorkerPublisher pub(context, ingest);
  if (!pub.wait_for_subscriptions({kTopic}, 10s)) throw std::runtime_error("daemon: no subscription");
  vumi::transport::TopicSubscriber marks(context, outbound, {"event.acct1.survey.marked"});
  vumi::transport::TopicSubscriber lat_sub(context, outbound, {"event.acct1.survey.lat_out"});
  const std::uint64_t probes =
      probe_until_echoed(pub, "event.acct1.survey.mark", event_body("mark", "{}"), marks).sent;

  // (b) full speed, then one marker: handled in order, so its echo means all were dispatched.
  PublisherChild publisher(ingest, count, true);
  if (!marks.receive(120s)) throw std::runtime_error("daemon: marker never came back");
  const auto done = clock_type::now();
  const double daemon_rate = static_cast<double>(count) / seconds_between(publisher.start(), done);
  if (!publisher.finish()) throw std::runtime_error("daemon: the publisher failed");
  std::printf("(b) same publisher -> daemon -> [noop, noop]:             %10.0f events/s\n", daemon_rate);
  std::printf("ratio (b)/(a): %.2f\n", daemon_rate / raw);

  // (c0) the machine's own floor: the same paced events through a bare ZeroMQ relay; then (c).
  const double rate = latency_rate > 0 ? latency_rate : daemon_rate * 0.10;
  const auto latency_count = static_cast<std::uint64_t>(std::max(1000.0, rate * latency_seconds));
  std::ofstream dump;
  if (!latency_dump.empty()) {
    dump.open(latency_dump);
    if (!dump) throw std::runtime_error("--latency-dump: cannot write " + latency_dump);
  }
  const auto relayed = raw_relay_latencies(rate, latency_count);
  report_latencies("(c0) raw ZeroMQ floor", "publisher -> SUB -> relay thread -> PUB -> SUB", rate,
                   daemon_rate, latency_count, relayed, dump);
  // (c) each event carries its send time, echoed by emit_event.
  const auto latencies = paced_latencies(pub, lat_sub, "event.acct1.survey.lat", "lat", rate, latency_count);
  report_latencies("(c) latency", "[noop, emit_event]", rate, daemon_rate, latency_count, latencies, dump);

  // (e) the same events through reliable ingest, until every one is acknowledged (committed).
  std::vector<vumi::transport::ReliableMessage> reliable_events;
  reliable_events.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "bench:%010llu", static_cast<unsigned long long>(i));
    reliable_events.push_back({kTopic, bench_event(i), id});
  }
  vumi::transport::ReliablePublisher reliable_pub(context, reliable);
  vumi::transport::ReliableOptions reliable_options;
  reliable_options.deadline = 600s;
  // Enough in flight to keep the daemon's turns full (it reads up to 1024 per turn, acks after commit).
  reliable_options.window = 20'000;
  const auto reliable_start = clock_type::now();
  const auto acked = reliable_pub.publish(reliable_events, reliable_options);
  const double reliable_rate =
      static_cast<double>(count) / seconds_between(reliable_start, clock_type::now());
  std::printf(
      "(e) reliable ingest (acked after commit) -> [noop, noop]: %10.0f events/s (%zu ok, %zu resent)\n",
      reliable_rate, acked.ok, acked.resent);
  std::printf("cost of durability, ratio (e)/(b): %.2f\n", reliable_rate / daemon_rate);

  // The daemon's own counters must account for every event.
  const int code = daemon.stop();
  auto stopped = daemon.wait_for("stopped: ", 5s);
  if (code != 0 || !stopped) {
    std::cerr << "daemon exited with " << code << "; its log is in " << (dir / "daemon.log") << "\n";
    return 1;
  }
  const std::uint64_t expected_chains = 2 * count + probes + 1 + latency_count;
  // Only (e)'s events have ids a redelivery could repeat (derived from their msg_id), so only they
  // left ledger rows; the other events' ids were drawn at random and are not recorded. The
  // outbox rows of emitted events are deleted once sent (their pages stay in the file, reused).
  const auto db_bytes = fs::file_size(dir / "state" / "vumi.db");
  std::printf("state database: %llu bytes after %llu ledger rows: %.0f bytes per reliable event\n",
              static_cast<unsigned long long>(db_bytes), static_cast<unsigned long long>(count),
              static_cast<double>(db_bytes) / static_cast<double>(count));
  std::printf("daemon counters: chains=%llu (expected %llu), rejected=%llu\n",
              static_cast<unsigned long long>(counter(*stopped, "chains")),
              static_cast<unsigned long long>(expected_chains),
              static_cast<unsigned long long>(counter(*stopped, "rejected")));
  if (counter(*stopped, "chains") != expected_chains) return 1;

  // (d) CURVE on: raw sockets, then the daemon, each against its plain run above.
  const auto server = vumi::transport::generate_curve_keypair();
  const auto client = vumi::transport::generate_curve_keypair();
  const double raw_curve =
      raw_throughput(count, vumi::transport::CurveClientKeys{client, server.public_key}, server.secret_key);
  std::printf("(d) raw ZeroMQ with CURVE:                               %10.0f msg/s (CURVE/plain %.2f)\n",
              raw_curve, raw_curve / raw);
  const double daemon_curve = curve_daemon_throughput(dir, count, config_text.str());
  std::printf("(d) daemon with CURVE, publisher rights per message:     %10.0f events/s (CURVE/plain %.2f)\n",
              daemon_curve, daemon_curve / daemon_rate);
  fs::remove_all(dir);
  return 0;
}

int usage() {
  std::cerr << "usage: throughput_bench [--messages N] [--latency-seconds S] [--latency-rate EVENTS_PER_S]\n"
               "                        [--latency-dump FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--publisher") return publisher_main(argc, argv);
  std::uint64_t count = 500'000;
  double latency_seconds = 5;
  double latency_rate = 0;  // 0: 10% of (b)
  std::string latency_dump;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 == argc) {  // every flag takes a value: a lone one (--help) must not run the bench
      return usage();
    }
    if (flag == "--messages") {
      count = std::stoull(argv[i + 1]);
    } else if (flag == "--latency-seconds") {
      latency_seconds = std::stod(argv[i + 1]);
    } else if (flag == "--latency-rate") {
      latency_rate = std::stod(argv[i + 1]);
    } else if (flag == "--latency-dump") {
      latency_dump = argv[i + 1];
    } else {
      return usage();
    }
  }
  try {
    return run(count, latency_seconds, latency_rate, latency_dump);
  } catch (const std::exception& e) {
    std::cerr << "throughput_bench: " << e.what() << "\n";
    return 1;
  }
}
