// What the dispatcher has done since start; read by the status line and tests.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "event/rejection.hpp"

namespace vumi::dispatch {

// How long the steps of one handler type took (a Prometheus histogram).
struct StepTimings {
  static constexpr std::array<double, 11> kBucketSeconds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                         0.01,   0.025,   0.05,   0.1,   1.0};
  // Steps in each bucket alone: (previous bound, bound]. One increment per step; cumulative()
  // gives Prometheus's counts of steps <= each bound.
  std::array<std::uint64_t, kBucketSeconds.size()> buckets{};
  std::uint64_t count = 0;
  double sum_seconds = 0;
  std::uint64_t failed = 0;
  void add(double seconds) {
    for (std::size_t i = 0; i < kBucketSeconds.size(); ++i) {
      if (seconds <= kBucketSeconds[i]) {
        ++buckets[i];
        break;
      }
    }
    ++count;
    sum_seconds += seconds;
  }
  // Steps that took at most each bound.
  std::array<std::uint64_t, kBucketSeconds.size()> cumulative() const {
    std::array<std::uint64_t, kBucketSeconds.size()> out{};
    std::uint64_t below = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) out[i] = below += buckets[i];
    return out;
  }
};

// A counter a plugin added through metric_add: (plugin, handler instance, account, name).
using PluginMetricKey = std::tuple<std::string, std::string, std::string, std::string>;

struct Counters {
  std::uint64_t received = 0;                   // ingest messages handed to the dispatcher
  std::uint64_t events = 0;                     // events routed (from workers, inbound, or emitted)
  std::uint64_t chains_run = 0;                 // chains started
  std::uint64_t chains_failed = 0;              // chains that ended in a dead letter
  std::uint64_t emitted = 0;                    // events emitted by handlers
  std::uint64_t commands_forwarded = 0;         // command.* passed to outbound
  std::uint64_t published = 0;                  // messages handed to the outbound sink
  std::uint64_t dead_letters = 0;               // dead letters recorded
  std::uint64_t unrouted = 0;                   // events that matched no route
  std::uint64_t quarantined = 0;                // messages refused because they crashed the daemon before
  std::uint64_t duplicates = 0;                 // redelivered events the ledger knew: not run again
  std::uint64_t not_owner = 0;                  // messages of accounts of shards held elsewhere: not handled
  std::vector<std::uint64_t> handled_by_shard;  // in a cluster: messages handled, by their account's shard
  std::uint64_t retries_scheduled = 0;  // step attempts that asked to be run again (and were scheduled)
  std::uint64_t retries_run = 0;        // scheduled attempts that ran
  std::uint64_t retries_exhausted = 0;  // steps out of attempts (one retries_exhausted dead letter each)
  std::array<std::uint64_t, event::kReasonCount> rejected{};     // by reason
  std::map<std::string, StepTimings, std::less<>> step_timings;  // by handler type
  std::map<PluginMetricKey, std::int64_t> plugin_metrics;

  std::uint64_t rejected_total() const {
    std::uint64_t n = 0;
    for (auto v : rejected) n += v;
    return n;
  }
};

}  // namespace vumi::dispatch
