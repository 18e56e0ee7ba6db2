// Cluster members as real processes: a config per member (same accounts, own endpoints and state
// folder, its cluster block), started and stopped by the test, and a listener on all of them.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "daemon_process.hpp"
#include "transport/reliable_publisher.hpp"

namespace vumi::testing {

// Accounts "account-0" ... "account-<n-1>", each sending one SMS per poll_complete event with content
// "seq <event_data.seq>" to event_data.from_addr.
std::string cluster_accounts_json(int accounts);

// One member's settings.
struct MemberSpec {
  std::string name;
  std::uint32_t shards = 1;
  std::vector<std::uint32_t> owned;
  std::vector<std::uint32_t> standby;
  std::string state_json;  // the "state" block, e.g. {"backend": "sqlite", "dir": "..."}
  std::uint32_t lease_poll_ms = 200;
};

// The spec of member number `index` ("d<index>") on the PostgreSQL database at url, its state
// folder in dir.
MemberSpec postgres_member(std::size_t index, std::uint32_t shards, std::vector<std::uint32_t> owned,
                           std::vector<std::uint32_t> standby, const std::string& url, const TempDir& dir);

// A running member: its process and the endpoints it reported.
class Member {
 public:
  Member(const TempDir& dir, MemberSpec spec, int accounts);
  // Starts the process (again, on the same endpoints after the first start).
  void start();
  // start() in two halves, so that several members can be started at once: launch() spawns the
  // process, await_listening() waits until it listens and notes its endpoints.
  void launch();
  void await_listening();
  void kill9();
  // SIGTERM; returns its "stopped:" line.
  std::string stop();
  // Waits until its log (since its last start) says it took shard (a "cluster: took shard(s)" line
  // naming it, or the sqlite start line); false on timeout.
  bool wait_holding(std::uint32_t shard, std::chrono::milliseconds timeout);
  // A new owned list, written to its config (takes effect at the next start).
  void set_owned(std::vector<std::uint32_t> owned);
  ChildProcess& process() { return *process_; }
  const MemberSpec& spec() const { return spec_; }
  std::string ingest, reliable, outbound;
  std::filesystem::path config;

 private:
  void write_config();

  const TempDir& dir_;
  MemberSpec spec_;
  int accounts_;
  std::unique_ptr<ChildProcess> process_;
};

// A poll_complete event of account-<account> with event_data {"seq", "from_addr"}.
std::string cluster_event(int account, int seq);
// The reliable messages of `per_account` events for each of `accounts` accounts, interleaved
// (account 0 seq 0, account 1 seq 0, ...), msg_ids "<prefix>:<account>:<seq>".
std::vector<transport::ReliableMessage> cluster_messages(int accounts, int per_account,
                                                         const std::string& prefix);

// What a listener connected to every member's outbound saw of the SMS: per account the seq values
// in arrival order, and every message_id with how often it came.
struct SmsLog {
  std::map<std::string, std::vector<int>> seqs_by_account;
  std::map<std::string, int> message_ids;
  std::size_t received = 0;
  // Adds one outbound.sms body.
  void add(const std::string& body);
  // Distinct (account, seq) pairs.
  std::size_t distinct_events() const;
};

}  // namespace vumi::testing
