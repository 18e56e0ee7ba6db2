// Steps that asked for another attempt (VUMI_STEP_RETRY, or a state store failure during the
// step): computes the backoff, keeps each one in the store (so it survives a restart) and in
// memory earliest-due first, and turns a step out of attempts into a retries_exhausted dead letter.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "dispatch/counters.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/route_index.hpp"
#include "event/envelope.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class RetryScheduler {
 public:
  RetryScheduler(store::StateStore& store, DeadLetterRecorder& dead_letters, Counters& counters);

  // One attempt of a step that asked to be run again.
  struct Request {
    const Route* route = nullptr;
    const event::Envelope* event = nullptr;
    std::size_t step_index = 0;
    std::string step;                              // "chain[1] (handler \"sms\")"
    const boost::json::object* outputs = nullptr;  // the earlier steps' outputs
    boost::json::array attempts;                   // the step's earlier attempts ({"at", "error"})
    std::string error;                             // why this attempt did not succeed
    std::int64_t retry_after_ms = -1;              // the step's hint; -1: the route's backoff
  };

  // Schedules the next attempt, or records one retries_exhausted dead letter listing every
  // attempt when the route's retry.max_attempts is reached. Never throws.
  void step_wants_retry(Request request);

  // Which accounts' retries this scheduler keeps (in a cluster, those of the shards held).
  using AccountFilter = std::function<bool(std::string_view account)>;

  // Loads the retries a previous run left in the store (only those of accounts filter accepts,
  // when given; ids already waiting are skipped): at start, and when shards are taken over.
  // Throws StoreError.
  void load(const AccountFilter& filter = {});
  // Forgets the waiting retries of accounts filter accepts (shards given up: they stay in the
  // store for the new owner); returns how many.
  std::size_t release(const AccountFilter& filter);

  // The earliest due time (Unix ms) of the waiting retries, if any.
  std::optional<std::int64_t> next_due_ms() const;
  // Removes and returns up to `max` retries due at now_ms, earliest first.
  std::vector<store::PendingRetry> take_due(std::int64_t now_ms, std::size_t max);
  std::size_t waiting() const { return queue_.size(); }
  // The waiting retries counted by their account's shard (shards entries; a copy of the queue is
  // walked: for /metrics, not the data path).
  std::vector<std::size_t> waiting_by_shard(std::uint32_t shards) const;

  // The delay before the next attempt after `failed_attempts` attempts (1 = the first failed):
  // initial * 2^(n-1) capped at max_backoff_ms; a hint (>= 0) replaces it, under the same cap.
  static std::int64_t backoff_ms(const config::RetryPolicy& policy, std::uint32_t failed_attempts,
                                 std::int64_t hint_ms);
  static std::int64_t now_ms();  // wall clock: due times are stored and must survive a restart

 private:
  struct Later {
    bool operator()(const store::PendingRetry& a, const store::PendingRetry& b) const {
      return a.due_at_ms != b.due_at_ms ? a.due_at_ms > b.due_at_ms : a.id > b.id;
    }
  };

  store::StateStore& store_;
  DeadLetterRecorder& dead_letters_;
  Counters& counters_;
  std::priority_queue<store::PendingRetry, std::vector<store::PendingRetry>, Later> queue_;
};

// "event.<account>.<conversation_type>.<event_type>": where an event would be published.
std::string event_topic(const event::Envelope& event);

}  // namespace vumi::dispatch
