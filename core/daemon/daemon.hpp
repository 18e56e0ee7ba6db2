// `vumi-dispatcher run`: the ingest and outbound sockets, the dispatcher and the signals on one
// Boost.Asio loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch/chain_observer.hpp"
#include "dispatch/counters.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/runtime.hpp"
#include "store/state_store.hpp"

namespace boost::asio {
class io_context;
}

namespace vumi::transport {

struct IngestCounters;
struct OutboundCounters;

// What an extension of the daemon (the admin API) may reach; use it on the daemon's loop only.
class DaemonControl {
 public:
  virtual ~DaemonControl() = default;
  virtual boost::asio::io_context& io() = 0;
  // The running runtime; swap one account with runtime().routes().replace_account() between events.
  virtual dispatch::Runtime& runtime() = 0;
  virtual const dispatch::Counters& dispatch_counters() const = 0;
  virtual const IngestCounters& ingest_counters() const = 0;
  virtual const OutboundCounters& outbound_counters() const = 0;
  virtual store::StateStore& store() = 0;
  // Tells observer about every routed event, route and step (null: nobody).
  virtual void set_chain_observer(dispatch::ChainObserver* observer) = 0;

  // Runs one message through dispatch as if it had just arrived on ingest, inside the batch
  // run_in_batch opened; returns what became of it.
  using Resubmit = std::function<dispatch::HandleOutcome(std::string_view topic, std::string_view body,
                                                         std::string_view source)>;
  // Calls work inside a batch of its own, on the loop: its store writes and the messages it
  // resubmits commit together, and what they send leaves after the commit (a dead-letter replay).
  // False, without calling work, while the store is recovering a failed batch (try again later).
  virtual bool run_in_batch(const std::function<void(store::StateStore&, const Resubmit&)>& work) {
    (void)work;
    return false;
  }
  // How much work waits, for /metrics.
  struct Depths {
    std::uint64_t ingest_held = 0;      // ingest messages of a batch held until the store commits again
    std::uint64_t pending_retries = 0;  // step retries waiting for their time
    std::uint64_t outbox_unsent = 0;    // committed outbound messages not yet sent
  };
  virtual Depths depths() const { return {}; }
  // In a cluster (docs/scale-out.md): one entry per shard, for /metrics and the admin API.
  struct ShardFigures {
    std::uint32_t shard = 0;
    bool held = false;                  // this dispatcher holds it now
    std::uint64_t handled = 0;          // messages of its accounts handled here since start
    std::uint64_t outbox_waiting = 0;   // committed outbound messages of its accounts not yet sent
    std::uint64_t retries_waiting = 0;  // step retries of its accounts waiting here
  };
  // Empty when the dispatcher is not in a cluster.
  virtual std::vector<ShardFigures> shard_figures() const { return {}; }
  // This dispatcher's cluster.name; empty when not in a cluster.
  virtual std::string cluster_name() const { return {}; }
};

// Something started with the daemon and stopped before it (the admin HTTP server).
class DaemonExtension {
 public:
  virtual ~DaemonExtension() = default;
  // Once the sockets are up, before the loop runs; false refuses to start (the reason logged).
  virtual bool start(DaemonControl& control) = 0;
  // On the loop, after a reload built next aside and just before next replaces the running runtime.
  virtual void before_swap(dispatch::Runtime& next) = 0;
  // When the daemon begins to stop (on the loop).
  virtual void stop() = 0;
};

// Loads the config and builds its runtime; on failure returns null and appends every error.
// Called once at start and again on each SIGHUP.
// SIGHUP calls it on a thread of its own (the loop keeps dispatching), then swaps on the loop.
using RuntimeLoader = std::function<std::shared_ptr<dispatch::Runtime>(std::vector<std::string>& errors)>;

struct DaemonOptions {
  RuntimeLoader load;
  std::optional<unsigned> status_interval_s;   // overrides the config's status_interval_s; 0: none
  std::shared_ptr<DaemonExtension> extension;  // optional
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();

  // Starts everything, or fails before anything is half-started (config errors, state dir,
  // endpoints: logged, exit code 1). Then runs until SIGINT/SIGTERM and returns 0 after draining.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vumi::transport
