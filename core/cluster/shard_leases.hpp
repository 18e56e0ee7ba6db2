// Shard ownership through PostgreSQL (docs/scale-out.md): a session-level advisory lock per shard,
// pg_try_advisory_lock(kShardLockClass, shard), taken and held on a libpq connection of its own, on
// a thread of its own, so no network round trip ever runs on the dispatch loop. The server
// releases every lock of a session when its connection ends (a clean stop, or the process killed).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"

namespace vumi::cluster {

// The first key of the two-int4 advisory lock form: "vumi" in ASCII. The second is the shard.
constexpr std::int32_t kShardLockClass = 0x76756d69;

struct LeaseOptions {
  std::string url;                   // libpq connection URI of the shared database
  std::string name;                  // this dispatcher's name: application_name "vumi-dispatcher:<name>"
  std::vector<std::uint32_t> owned;  // tried from the start
  std::vector<std::uint32_t> standby;
  std::chrono::milliseconds poll{1000};  // between two attempts to take what is wanted and lacking
  // Standby shards are tried only after this long from start, so that at a cluster's start each
  // shard goes to its owner rather than to whichever standby came up first.
  std::chrono::milliseconds standby_delay{3000};
};

// The database the leases are taken in: the shared state store's (state.url).
std::string lease_database_url(const config::Config& config);

// The libpq application_name of a dispatcher's lease connection (cluster status shows it).
std::string lease_application_name(const std::string& name);

class ShardLeases {
 public:
  // Called on the lease thread with every shard held, sorted, each time that set changes (an empty
  // set when the connection is lost: the server has released or will release its locks).
  using OnChange = std::function<void(const std::vector<std::uint32_t>& held)>;

  ShardLeases(LeaseOptions options, OnChange on_change);
  ~ShardLeases();  // stop()
  ShardLeases(const ShardLeases&) = delete;
  ShardLeases& operator=(const ShardLeases&) = delete;

  void start();
  // Closes the connection (the server releases every lock at once) and joins the thread. No
  // on_change call happens after it returns.
  void stop();

 private:
  void run();

  LeaseOptions options_;
  OnChange on_change_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace vumi::cluster
