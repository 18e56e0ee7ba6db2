#include "cluster_fixture.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <sstream>

namespace vumi::testing {

using namespace std::chrono_literals;

namespace {

std::string shard_array(const std::vector<std::uint32_t>& shards) {
  std::string text = "[";
  for (std::uint32_t shard : shards) text += (text.size() > 1 ? "," : "") + std::to_string(shard);
  return text + "]";
}

// The text after key in line, up to a separator.
std::string after(const std::string& line, const std::string& key) {
  const auto at = line.find(key) + key.size();
  return line.substr(at, line.find_first_of(", \"}", at) - at);
}

// Whether a "took shard(s) 0,2" or "holds shards 0,2 of" list names shard.
bool lists(const std::string& line, const std::string& key, std::uint32_t shard) {
  const auto at = line.find(key);
  if (at == std::string::npos) return false;
  std::istringstream list(line.substr(at + key.size(), line.find(' ', at + key.size()) - at - key.size()));
  std::string item;
  while (std::getline(list, item, ','))
    if (item == std::to_string(shard)) return true;
  return false;
}

}  // namespace

std::string cluster_accounts_json(int accounts) {
  std::string json = "{";
  for (int i = 0; i < accounts; ++i) {
    json +=
        (i ? ",\n" : "\n") + std::string(R"("account-)") + std::to_string(i) +
        R"(": { "conversations": { "poll": "vxpolls" }, "routes": [ { "on": { "event_type": "poll_complete" },)"
        R"( "chain": [ { "handler": "sms", "config": { "to_addr": "{{/event/event_data/from_addr}}",)"
        R"( "content": "seq {{/event/event_data/seq}}" } } ] } ] })";
  }
  return json + "}";
}

MemberSpec postgres_member(std::size_t index, std::uint32_t shards, std::vector<std::uint32_t> owned,
                           std::vector<std::uint32_t> standby, const std::string& url, const TempDir& dir) {
  MemberSpec spec;
  spec.name = "d" + std::to_string(index);
  spec.shards = shards;
  spec.owned = std::move(owned);
  spec.standby = std::move(standby);
  spec.state_json = R"({"backend": "postgresql", "url": ")" + url + R"(", "dir": ")" +
                    (dir.path() / spec.name).string() + R"("})";
  return spec;
}

Member::Member(const TempDir& dir, MemberSpec spec, int accounts)
    : dir_(dir), spec_(std::move(spec)), accounts_(accounts) {
  ingest = "tcp://127.0.0.1:0";
  reliable = "tcp://127.0.0.1:*";
  outbound = "tcp://127.0.0.1:*";
  write_config();
}

void Member::write_config() {
  std::ostringstream out;
  out << "{\n"
      << R"("ingest": { "bind": ")" << ingest << R"(", "reliable_bind": ")" << reliable << "\" },\n"
      << R"("outbound": { "bind": ")" << outbound << "\" },\n"
      << R"("state": )" << spec_.state_json << ",\n"
      << R"("admin": null, "plugin_path": [")" << VUMI_PLUGIN_DIR << "/send_sms.so\"],\n"
      << R"("cluster": { "shards": )" << spec_.shards << R"(, "name": ")" << spec_.name << R"(", "owned": )"
      << shard_array(spec_.owned) << R"(, "standby": )" << shard_array(spec_.standby)
      << R"(, "lease_poll_ms": )" << spec_.lease_poll_ms << " },\n"
      << R"("handlers": { "sms": { "type": "send_sms", "options": { "transport_name": "sms" } } },)"
      << "\n"
      << R"("accounts": )" << cluster_accounts_json(accounts_) << "\n}\n";
  config = dir_.write(spec_.name + ".json", out.str());
}

void Member::set_owned(std::vector<std::uint32_t> owned) {
  spec_.owned = std::move(owned);
  write_config();
}

void Member::start() {
  launch();
  await_listening();
}

void Member::launch() {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{VUMI_DISPATCHER_EXE, "run", "-c", config.string(), "--status-interval", "0"});
}

void Member::await_listening() {
  std::size_t cursor = 0;
  auto reliable_line = process_->wait_for_line("reliable ingest: bound at ", 60s, &cursor);
  auto listening = process_->wait_for_line("listening: ingest ", 60s, &cursor);
  ASSERT_TRUE(reliable_line && listening) << process_->output();
  if (ingest.ends_with(":0")) {
    reliable = after(*reliable_line, "bound at ");
    ingest = after(*listening, "ingest ");
    outbound = after(*listening, "outbound ");
    write_config();  // restarts bind the same endpoints
  }
}

void Member::kill9() {
  process_->signal(SIGKILL);
  EXPECT_EQ(process_->wait_exit(30s), -SIGKILL);
}

std::string Member::stop() {
  process_->signal(SIGTERM);
  EXPECT_EQ(process_->wait_exit(60s), 0) << process_->output();
  auto line = process_->wait_for_line("stopped: ", 1s);
  return line ? *line : "";
}

bool Member::wait_holding(std::uint32_t shard, std::chrono::milliseconds timeout) {
  std::size_t cursor = 0;  // from its first line: one line may name several shards
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int round = 0; round < 10000 && std::chrono::steady_clock::now() < deadline; ++round) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = process_->wait_for_line("cluster: ", left, &cursor);
    if (!line) return false;
    if (lists(*line, "took shard(s) ", shard) || lists(*line, " holds shards ", shard)) return true;
  }
  return false;
}

std::string cluster_event(int account, int seq) {
  char msisdn[32];
  std::snprintf(msisdn, sizeof msisdn, "+2782%03d%04d", account, seq);
  return R"({"account_key":"account-)" + std::to_string(account) +
         R"(","conversation_key":"poll","conversation_type":"vxpolls","event_type":"poll_complete",)"
         R"("event_data":{"seq":)" +
         std::to_string(seq) + R"(,"from_addr":")" + msisdn + R"("}})";
}

std::vector<transport::ReliableMessage> cluster_messages(int accounts, int per_account,
                                                         const std::string& prefix) {
  std::vector<transport::ReliableMessage> messages;
  messages.reserve(static_cast<std::size_t>(accounts) * per_account);
  for (int seq = 0; seq < per_account; ++seq) {
    for (int account = 0; account < accounts; ++account) {
      messages.push_back({"event.account-" + std::to_string(account) + ".vxpolls.poll_complete",
                          cluster_event(account, seq),
                          prefix + ":" + std::to_string(account) + ":" + std::to_string(seq)});
    }
  }
  return messages;
}

void SmsLog::add(const std::string& body) {
  ++received;
  const boost::json::value sms = boost::json::parse(body);
  const std::string account(sms.at("helper_metadata").at("go").at("user_account").as_string());
  const std::string content(sms.at("content").as_string());
  seqs_by_account[account].push_back(std::stoi(content.substr(content.find(' ') + 1)));
  ++message_ids[std::string(sms.at("message_id").as_string())];
}

std::size_t SmsLog::distinct_events() const {
  std::size_t n = 0;
  for (const auto& [account, seqs] : seqs_by_account) n += std::set<int>(seqs.begin(), seqs.end()).size();
  return n;
}

}  // namespace vumi::testing
