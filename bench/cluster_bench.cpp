// Measures a cluster (docs/scale-out.md) on one throwaway PostgreSQL on loopback:
//  - throughput: 1, 2 and 3 dispatcher processes sharing 6 shards, a reliable publisher sending
//    --accounts x --per-account poll_complete events (one SMS each) to all of them; the time runs
//    from the first send until the last SMS arrived at a listener on every member;
//  - failover: two members, each the other's standby; one is killed with SIGKILL and the bench
//    times (a) until the standby's log says it took the shard and (b) until a reliable publisher's
//    new event for an account of that shard is acknowledged "ok".
// The members are the tests' cluster members (tests/cluster/cluster_fixture.*), real processes.
// Usage: cluster_bench [--accounts N] [--per-account N] [--members 1,2,3] [--failovers N]
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.hpp"
#include "common/shard_hash.hpp"
#include "pg_cluster.hpp"
#include "transport/reliable_publisher.hpp"
#include "transport/topic_subscriber.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using vumi::testing::Member;
using vumi::testing::MemberSpec;

constexpr std::uint32_t kShards = 6;

struct Options {
  int accounts = 300;
  int per_account = 100;
  std::vector<int> members{1, 2, 3};
  int failovers = 5;
};

int to_int(const std::string& flag, const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0)
    throw std::invalid_argument(flag + " needs a positive whole number, got \"" + text + "\"");
  return value;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--accounts") {
      options.accounts = to_int(flag, value);
    } else if (flag == "--per-account") {
      options.per_account = to_int(flag, value);
    } else if (flag == "--failovers") {
      options.failovers = to_int(flag, value);
    } else if (flag == "--members") {
      options.members.clear();
      std::istringstream list(value);
      for (std::string item; std::getline(list, item, ',');) {
        const int n = to_int(flag, item);
        if (n > static_cast<int>(kShards)) throw std::invalid_argument("--members: at most 6 members");
        options.members.push_back(n);
      }
    } else {
      throw std::invalid_argument("unknown option " + flag +
                                  " (there are --accounts, --per-account, --members, --failovers)");
    }
  }
  return options;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Members of one measurement: a fresh database each, their state folders in one temp folder.
class Cluster {
 public:
  Cluster(vumi::testing::PgCluster& server, const std::string& database, int accounts)
      : url_(server.create_database(database)), accounts_(accounts) {}
  ~Cluster() {
    for (auto& member : members_)
      if (!member->process().wait_exit(0ms)) member->stop();  // not the one killed
  }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  Member& add(std::uint32_t shards, std::vector<std::uint32_t> owned, std::vector<std::uint32_t> standby) {
    MemberSpec spec = vumi::testing::postgres_member(members_.size(), shards, std::move(owned),
                                                     std::move(standby), url_, dir_);
    spec.lease_poll_ms = 200;
    members_.push_back(std::make_unique<Member>(dir_, spec, accounts_));
    Member& member = *members_.back();
    member.start();
    for (std::uint32_t shard : member.spec().owned)
      if (!member.wait_holding(shard, 30s))
        throw std::runtime_error(spec.name + " did not take shard " + std::to_string(shard) + ":\n" +
                                 member.process().output());
    if (listener_)
      listener_->socket().connect(member.outbound);
    else
      listener_ = std::make_unique<vumi::transport::TopicSubscriber>(
          context_, member.outbound, std::vector<std::string>{"outbound.sms"});
    return member;
  }
  std::vector<std::string> reliable_endpoints() const {
    std::vector<std::string> endpoints;
    for (const auto& member : members_) endpoints.push_back(member->reliable);
    return endpoints;
  }
  zmq::context_t& context() { return context_; }
  vumi::transport::TopicSubscriber& listener() { return *listener_; }
  Member& member(std::size_t i) { return *members_.at(i); }

 private:
  vumi::testing::TempDir dir_;
  std::string url_;
  int accounts_;
  zmq::context_t context_{1};
  std::vector<std::unique_ptr<Member>> members_;
  std::unique_ptr<vumi::transport::TopicSubscriber> listener_;
};

// Shards 0..5 dealt round-robin to n members.
std::vector<std::vector<std::uint32_t>> deal(int n) {
  std::vector<std::vector<std::uint32_t>> owned(static_cast<std::size_t>(n));
  for (std::uint32_t shard = 0; shard < kShards; ++shard) owned[shard % n].push_back(shard);
  return owned;
}

void throughput(vumi::testing::PgCluster& server, const Options& options, int n) {
  Cluster cluster(server, "throughput_" + std::to_string(n), options.accounts);
  for (const auto& owned : deal(n)) cluster.add(kShards, owned, {});
  const std::size_t total = static_cast<std::size_t>(options.accounts) * options.per_account;
  vumi::transport::ReliablePublisher publisher(cluster.context(), cluster.reliable_endpoints());
  vumi::transport::ReliableOptions publish_options;
  publish_options.deadline = 600s;
  const auto messages = vumi::testing::cluster_messages(options.accounts, options.per_account, "bench");
  const auto started = Clock::now();
  const auto result = publisher.publish(messages, publish_options);
  const double acknowledged_s = seconds_since(started);
  std::size_t received = 0;
  for (int round = 0; round < 1'000'000 && received < total && seconds_since(started) < 600; ++round)
    if (cluster.listener().receive(1s)) ++received;
  const double all_sent_s = seconds_since(started);
  std::printf(
      "%d dispatcher(s): %zu events acknowledged ok in %.2f s; %zu of %zu SMS out after %.2f s: "
      "%.0f events/s (%zu not_owner answers, %zu resent)\n",
      n, result.ok, acknowledged_s, received, total, all_sent_s, received / all_sent_s, result.not_owner,
      result.resent);
  publisher.close();
}

// The first account (account-<i>) whose shard of 2 is `shard`.
int account_in_shard(std::uint32_t shard) {
  for (int i = 0; i < 1000; ++i)
    if (vumi::shard_of("account-" + std::to_string(i), 2) == shard) return i;
  throw std::logic_error("no account in shard " + std::to_string(shard));
}

void failover(vumi::testing::PgCluster& server, const Options& options, int trial) {
  Cluster cluster(server, "failover_" + std::to_string(trial), options.accounts);
  Member& survivor = cluster.add(2, {0}, {1});
  Member& victim = cluster.add(2, {1}, {0});
  vumi::transport::ReliablePublisher publisher(cluster.context(), cluster.reliable_endpoints());
  vumi::transport::ReliableOptions publish_options;
  publish_options.ack_timeout = 100ms;
  publish_options.deadline = 60s;
  const int account = account_in_shard(1);
  // A member takes its standby shards only 3 x lease_poll_ms after its start (owners first): a
  // failover is measured on a cluster that has been up past that.
  std::this_thread::sleep_for(1s);

  victim.kill9();
  const auto killed = Clock::now();
  const bool took = survivor.wait_holding(1, 60s);
  const double took_s = seconds_since(killed);
  const auto result =
      publisher.publish({{"event.account-" + std::to_string(account) + ".vxpolls.poll_complete",
                          vumi::testing::cluster_event(account, 0), "after-kill:" + std::to_string(trial)}},
                        publish_options);
  const double acknowledged_s = seconds_since(killed);
  std::printf(
      "failover %d: shard 1 taken by its standby %.3f s after SIGKILL%s; a new event for "
      "account-%d acknowledged %s %.3f s after it\n",
      trial, took_s, took ? "" : " (NOT taken within 60 s)", account, result.ok == 1 ? "ok" : "NOT ok",
      acknowledged_s);
  publisher.close();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    if (const std::string missing = vumi::testing::PgCluster::server_binaries_missing(); !missing.empty()) {
      std::cerr << "cluster_bench: " << missing << "\n";
      return 2;
    }
    vumi::testing::PgCluster server(vumi::testing::PgCluster::Options{.durable = true});
    std::printf("cluster_bench: %d accounts x %d events, %u shards, PostgreSQL (durable) on 127.0.0.1:%d\n",
                options.accounts, options.per_account, kShards, server.port());
    for (int n : options.members) throughput(server, options, n);
    for (int trial = 1; trial <= options.failovers; ++trial) failover(server, options, trial);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cluster_bench: " << e.what() << "\n";
    return 1;
  }
}
