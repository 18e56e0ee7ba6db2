// Scaling of `workers: N` (docs/workers.md): events/s through a daemon whose one-step chain is a
// handler that busy-waits ~W µs per event (`busy` of the overlap_probe test plugin, REENTRANT),
// with 1 worker and then 2 (or the list given). The events are spread over A accounts and sent by
// `vumi-dispatcher publish` in a process of its own; the clock runs from its start until a final
// `mark` event's SMS comes back on outbound (its batch commits only after every event before it
// ran), and the daemon's counters must account for every event.
// Usage: workers_bench [--events N] [--work-us W] [--accounts A] [--workers 1,2]
// Needs the fixture plugin: ninja -C build-ci fixture_overlap_probe send_sms vumi-dispatcher workers_bench
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "daemon_child.hpp"
#include "transport/topic_subscriber.hpp"

namespace {

namespace fs = std::filesystem;
using bench_support::clock_type;
using bench_support::DaemonChild;
using namespace std::chrono_literals;

std::string config_text(const fs::path& dir, unsigned workers, long work_us, int accounts) {
  std::ostringstream out;
  out << R"({ "ingest": { "bind": "tcp://127.0.0.1:0" }, "outbound": { "bind": "tcp://127.0.0.1:*" },)"
      << R"( "admin": { "bind": "127.0.0.1:0" }, "status_interval_s": 0, "workers": )" << workers
      << R"(, "state_dir": ")" << (dir / "state").string() << R"(", "plugin_path": [")" << VUMI_PLUGIN_DIR
      << R"(/send_sms.so", ")" << VUMI_FIXTURE_DIR << R"(/overlap_probe.so"],)"
      << R"( "handlers": { "busy": { "type": "busy" },)"
      << R"( "sms": { "type": "send_sms", "options": { "transport_name": "sms" } } }, "accounts": {)";
  for (int a = 0; a < accounts; ++a) {
    out << (a ? "," : "") << "\"acct" << a << R"(": { "conversations": { "poll1": "vxpolls" }, "routes": [)"
        << R"({ "on": { "event_type": "poll_complete" }, "chain": [ { "handler": "busy", "config": { "work_us": )"
        << work_us << R"( } } ] },)"
        << R"({ "on": { "event_type": "mark" }, "chain": [ { "handler": "sms",)"
        << R"( "config": { "to_addr": "+27820000000", "content": "mark" } } ] } ] })";
  }
  out << "} }\n";
  return out.str();
}

std::string event_line(int account, std::uint64_t n, const char* type) {
  return R"({"account_key":"acct)" + std::to_string(account) +
         R"(","conversation_key":"poll1","conversation_type":"vxpolls","event_type":")" + type +
         R"(","event_data":{"from_addr":"+27820001234","answers":{"q1":"yes","q2":"no"},"n":)" +
         std::to_string(n) + "}}\n";
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

std::uint64_t counter(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  return at == std::string::npos ? 0 : std::stoull(line.substr(at + key.size() + 2));
}

// Events/s with `workers` workers, or a negative number when the run did not complete.
double run(unsigned workers, std::uint64_t events, long work_us, int accounts) {
  const fs::path dir = fs::temp_directory_path() /
                       ("workers_bench_" + std::to_string(::getpid()) + "_" + std::to_string(workers));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream(dir / "config.json") << config_text(dir, workers, work_us, accounts);
    std::ofstream lines(dir / "events.jsonl");
    for (std::uint64_t i = 0; i < events; ++i)
      lines << event_line(static_cast<int>(i % static_cast<std::uint64_t>(accounts)), i, "poll_complete");
    lines << event_line(0, events, "mark");
  }
  DaemonChild daemon(VUMI_DISPATCHER_EXE, dir / "config.json", dir / "daemon.log");
  auto listening = daemon.wait_for("listening: ingest ", 30s);
  if (!listening) {
    std::cerr << "the daemon did not start; see " << (dir / "daemon.log") << "\n";
    return -1;
  }
  const auto at = listening->find("listening: ingest ") + 18;
  const std::string ingest = listening->substr(at, listening->find(',', at) - at);
  const auto out_at = listening->find("outbound ", at) + 9;
  const std::string outbound = listening->substr(out_at, listening->find_first_of(" \"}", out_at) - out_at);
  zmq::context_t context(1);
  vumi::transport::TopicSubscriber sms(context, outbound, {"outbound."});

  const auto start = clock_type::now();
  const pid_t publisher =
      spawn({VUMI_DISPATCHER_EXE, "publish", "--connect", ingest, (dir / "events.jsonl").string()});
  bool marked = false;
  const auto deadline = start + 300s;
  while (!marked && clock_type::now() < deadline) marked = sms.receive(100ms).has_value();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  int status = 0;
  waitpid(publisher, &status, 0);
  daemon.stop();
  const auto stopped = daemon.wait_for("stopped: ", 5s);
  const std::uint64_t seen = stopped ? counter(*stopped, "dispatched") : 0;
  if (!marked || seen != events + 1) {
    std::cerr << "workers " << workers << ": incomplete run (marker " << (marked ? "seen" : "missing")
              << ", daemon counted " << seen << " of " << events + 1 << " events); see " << dir << "\n";
    return -1;
  }
  fs::remove_all(dir);
  return static_cast<double>(events) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t events = 100'000;
  long work_us = 20;
  int accounts = 64;
  std::vector<unsigned> worker_counts{1, 2};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events") events = std::stoull(argv[i + 1]);
    if (flag == "--work-us") work_us = std::stol(argv[i + 1]);
    if (flag == "--accounts") accounts = std::stoi(argv[i + 1]);
    if (flag == "--workers") {
      worker_counts.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string n; std::getline(list, n, ',');)
        worker_counts.push_back(static_cast<unsigned>(std::stoul(n)));
    }
  }
  std::cout << "workers_bench: " << events << " events over " << accounts << " accounts, chain [busy "
            << work_us << " us]\n";
  double first = 0;
  for (unsigned workers : worker_counts) {
    const double rate = run(workers, events, work_us, accounts);
    if (rate < 0) return 1;
    if (first == 0) first = rate;
    std::printf("workers %u: %.0f events/s (%.2fx the first)\n", workers, rate, rate / first);
  }
  return 0;
}
