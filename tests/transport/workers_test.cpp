// `workers: N` (docs/workers.md) on a real daemon process: each account's events keep their order
// under a flood over many accounts, a SERIAL handler instance shared by every account is never
// entered by two workers at once (while a REENTRANT one is), and what goes out still goes out
// after the commit. The admin API is on, so its run history observes both workers.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <sstream>
#include <vector>

#include "daemon_process.hpp"
#include "transport/topic_subscriber.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::counter_value;
using testing::TempDir;

constexpr int kAccounts = 16;

std::string account(int a) {
  return "acct" + std::to_string(a);
}

std::string to_addr(int a) {
  return "+278200000" + std::to_string(10 + a);
}

// kAccounts accounts whose poll_complete runs `steps` (global handlers) and then sends an SMS
// to the event's "to" saying its "seq".
std::string workers_config(const std::filesystem::path& state_dir, int workers, const std::string& steps) {
  std::ostringstream out;
  out << R"({ "ingest": { "bind": "tcp://127.0.0.1:0" }, "outbound": { "bind": "tcp://127.0.0.1:*" },)"
      << R"( "admin": { "bind": "127.0.0.1:0" }, "workers": )" << workers << R"(, "state_dir": ")"
      << state_dir.string() << R"(",)"
      << R"( "plugin_path": [")" << VUMI_PLUGIN_DIR << R"(/send_sms.so", ")" << VUMI_FIXTURE_DIR
      << R"(/overlap_probe.so"],)"
      << R"( "handlers": { "sms": { "type": "send_sms", "options": { "transport_name": "sms" } },)"
      << R"( "serial": { "type": "probe_serial" }, "reentrant": { "type": "probe_reentrant" },)"
      << R"( "busy": { "type": "busy" } }, "accounts": {)";
  for (int a = 0; a < kAccounts; ++a) {
    out << (a ? "," : "") << '"' << account(a)
        << R"(": { "conversations": { "poll1": "vxpolls" }, "routes": [)"
        << R"({ "on": { "event_type": "poll_complete" }, "chain": [)" << steps
        << R"({ "handler": "sms", "config": { "to_addr": "{{/event/event_data/to}}",)"
        << R"( "content": "seq {{/event/event_data/seq}}" } } ] } ] })";
  }
  out << "} }\n";
  return out.str();
}

// `per_account` events for each account, interleaved over the accounts, numbered per account.
std::filesystem::path write_flood(const TempDir& dir, int per_account) {
  std::string text;
  for (int seq = 0; seq < per_account; ++seq) {
    for (int a = 0; a < kAccounts; ++a) {
      text += R"({"account_key":")" + account(a) +
              R"(","conversation_key":"poll1","conversation_type":"vxpolls","event_type":"poll_complete",)"
              R"("event_data":{"to":")" +
              to_addr(a) + R"(","seq":)" + std::to_string(seq) + "}}\n";
    }
  }
  return dir.write("flood.jsonl", text);
}

struct Flood {
  std::map<std::string, std::vector<int>> seqs_by_to;  // in the order they arrived
  std::size_t received = 0;
  std::string log;
};

// Runs the daemon on config, publishes the flood, and collects the SMS until all arrived (or 120 s).
Flood run_flood(const TempDir& dir, const std::string& config_text, int per_account) {
  Flood flood;
  const auto config = dir.write("config.json", config_text);
  testing::Daemon daemon(config, {"--status-interval", "0"});
  EXPECT_TRUE(daemon.listening()) << daemon.process().output();
  if (!daemon.listening()) return flood;
  zmq::context_t context(1);
  transport::TopicSubscriber sms(context, daemon.outbound, {"outbound."});
  // Rows wait for a subscriber during the start window, so none is sent before this one is there.
  const auto events = write_flood(dir, per_account);
  ChildProcess publisher({VUMI_DISPATCHER_EXE, "publish", "--connect", daemon.ingest, events.string()});
  const std::size_t expected = static_cast<std::size_t>(per_account) * kAccounts;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (flood.received < expected && std::chrono::steady_clock::now() < deadline) {
    auto got = sms.receive(100ms);
    if (!got) continue;
    const auto body = boost::json::parse(got->body).as_object();
    const std::string content(body.at("content").as_string());
    flood.seqs_by_to[std::string(body.at("to_addr").as_string())].push_back(std::stoi(content.substr(4)));
    ++flood.received;
  }
  EXPECT_EQ(publisher.wait_exit(60s), 0) << publisher.output();
  daemon.process().signal(SIGTERM);
  EXPECT_EQ(daemon.process().wait_exit(60s), 0) << daemon.process().output();
  flood.log = daemon.process().output();
  return flood;
}

std::size_t count_lines(const std::string& log, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = 0; (at = log.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
  return n;
}

TEST(Workers, EachAccountKeepsItsOrderWithTwoWorkersUnderAFloodOverManyAccounts) {
  TempDir dir;
  constexpr int kPerAccount = 250;  // 4,000 events, ~20 us of handler work each
  const Flood flood = run_flood(
      dir, workers_config(dir.path() / "state", 2, R"({ "handler": "busy", "config": { "work_us": 20 } },)"),
      kPerAccount);
  EXPECT_NE(flood.log.find("dispatch: 2 worker(s)"), std::string::npos) << flood.log;
  ASSERT_EQ(flood.received, static_cast<std::size_t>(kPerAccount * kAccounts)) << flood.log;
  ASSERT_EQ(flood.seqs_by_to.size(), static_cast<std::size_t>(kAccounts));
  for (const auto& [to, seqs] : flood.seqs_by_to) {
    ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kPerAccount)) << to;
    for (int i = 0; i < kPerAccount; ++i) ASSERT_EQ(seqs[static_cast<std::size_t>(i)], i) << to;
  }
}

TEST(Workers, ASerialInstanceIsNeverEnteredByTwoWorkersAtOnceAReentrantOneIs) {
  TempDir dir;
  constexpr int kPerAccount = 150;  // 2,400 events through both probes, shared by all 16 accounts
  const Flood flood = run_flood(dir,
                                workers_config(dir.path() / "state", 2,
                                               R"({ "handler": "serial", "config": { "work_us": 50 } },)"
                                               R"({ "handler": "reentrant", "config": { "work_us": 50 } },)"),
                                kPerAccount);
  ASSERT_EQ(flood.received, static_cast<std::size_t>(kPerAccount * kAccounts)) << flood.log;
  // The log names the handler type of each warning: none from the serial probe; the reentrant one,
  // on the same events, shows that the two workers did run at the same time.
  std::size_t serial = 0, reentrant = 0;
  std::istringstream lines(flood.log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("entered concurrently") == std::string::npos) continue;
    serial += line.find("probe_serial") != std::string::npos;
    reentrant += line.find("probe_reentrant") != std::string::npos;
  }
  EXPECT_EQ(serial, 0u) << flood.log;
  EXPECT_GT(reentrant, 0u) << "no overlap seen: were the two workers ever running at once?";
  EXPECT_EQ(count_lines(flood.log, "entered concurrently"), serial + reentrant) << flood.log;
}

}  // namespace
}  // namespace vumi
