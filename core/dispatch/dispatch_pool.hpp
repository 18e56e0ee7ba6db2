// The dispatch threads of `workers: N` (docs/workers.md): N dispatchers over one runtime, one
// state store and one outbound sink. A batch's messages are spread over them by account, so each
// account's messages run in order on one thread; the caller commits the batch after handle_all
// returned. With one worker this is the plain Dispatcher on the calling thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crash/in_flight.hpp"
#include "dispatch/counters.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/worker_threads.hpp"
#include "store/locked_state_store.hpp"

namespace vumi::dispatch {

class DispatchPool {
 public:
  // workers >= 1. With more than one, store and outbound are reached under one mutex (the outbound
  // sink writes the outbox table through the same store).
  DispatchPool(std::shared_ptr<const Runtime> runtime, store::StateStore& store, OutboundSink& outbound,
               std::size_t workers);
  ~DispatchPool();

  std::size_t workers() const { return dispatchers_.size(); }
  // The dispatcher of the calling thread: refusals, retries, resubmitted messages.
  Dispatcher& first() { return *dispatchers_.front(); }

  // One ingest message of a batch, and what became of it (set by handle_all).
  struct Job {
    std::string_view topic, body, event_id_if_absent, source;
    HandleOutcome outcome = HandleOutcome::processed;
  };
  // Runs every job (Dispatcher::handle). Messages whose account the topic names (events), or
  // whose tag names it (inbound messages), run on the worker of their account, in the order
  // given; any other message runs alone, after every job before it and before every job after it.
  void handle_all(std::span<Job> jobs);

  // What the daemon asks of its dispatcher, for all workers (on the calling thread, between batches).
  void refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body,
              std::string_view source = {});
  // In a cluster: which shards this daemon holds (null: all), for every worker.
  void set_ownership(const ShardOwnership* ownership);
  // Loads the stored retries (of held shards) into the first worker; it runs them on the caller.
  void load_pending_retries();
  // Forgets every worker's retries (a shard was lost; they stay stored for its next owner).
  std::size_t release_retries();
  std::vector<std::size_t> retries_waiting_by_shard(std::uint32_t shards) const;
  std::optional<std::int64_t> next_retry_due_ms() const;
  std::size_t run_due_retries(std::int64_t now_ms, std::size_t max);
  std::size_t retries_waiting() const;
  void end_batch();
  void flush_suppressed_logs();
  void guard_crashes(CrashGuard& guard);
  void replace_runtime(const std::shared_ptr<const Runtime>& runtime);
  const Runtime& runtime() const { return first_const().runtime(); }
  // The sum of every worker's counters.
  const Counters& counters() const;
  void set_observer(ChainObserver* observer);

 private:
  const Dispatcher& first_const() const { return *dispatchers_.front(); }
  // The worker of the job's account, or nullopt when its account is not known before decoding.
  std::optional<std::size_t> worker_of(const Job& job);
  void run_spread(std::span<Job> jobs, const std::vector<std::size_t>& worker);

  std::shared_ptr<const Runtime> runtime_;
  std::mutex store_mutex_;
  std::unique_ptr<store::LockedStateStore> locked_store_;        // with more than one worker
  std::vector<std::unique_ptr<OutboundSink>> locked_outbounds_;  // likewise, one per worker
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;         // one per worker; [0] runs on the caller
  WorkerThreads threads_;
  std::vector<std::vector<Job*>> lanes_;  // per worker, the jobs of the running spread (reused)
  mutable Counters sum_;
  // Once crashes are guarded: the crash guard's record for worker 0, one of their own for the others.
  std::vector<std::unique_ptr<crash::InFlight>> worker_in_flight_;
  std::vector<const crash::InFlight*> in_flight_;  // per worker
};

// Adds every count of from to into.
void add_counters(Counters& into, const Counters& from);

}  // namespace vumi::dispatch
