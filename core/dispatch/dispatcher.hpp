// The data path: one ingest message in; decode, route, run chains, record effects.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "dispatch/account_ownership.hpp"
#include "dispatch/chain_observer.hpp"
#include "dispatch/counters.hpp"
#include "dispatch/outbound.hpp"
#include "dispatch/runtime.hpp"
#include "event/rejection.hpp"
#include "store/state_store.hpp"

namespace vumi::crash {
struct InFlight;
}

namespace vumi::dispatch {

class CrashGuard;
// What became of one ingest message (the reliable ingest path acknowledges with it).
enum class HandleOutcome {
  processed,  // routed and run (or forwarded), its effects written to the open batch
  duplicate,  // already processed (the ledger knew its event id): not run again
  rejected,   // refused (logged, counted, dead-lettered): sending it again would not help
  not_owner,  // for an account of a shard this dispatcher does not hold: nothing done, nothing kept
};

class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<const Runtime> runtime, store::StateStore& store, OutboundSink& outbound);
  ~Dispatcher();

  // Handles one ingest message [topic, body] to completion (its chains and every event they emit).
  // Never throws; a refused message is logged, counted and, where it carries work, dead-lettered.
  // An event (or inbound message) whose id the processed-message ledger holds for its account is
  // a counted duplicate and does not run. event_id_if_absent names an event that has no event_id
  // (the reliable path derives it from the publisher's message id, so a resend is recognised).
  // `source` names where it came from in dead letters (e.g. "ingest tcp://... from 10.0.0.5").
  HandleOutcome handle(std::string_view topic, std::string_view body,
                       std::string_view event_id_if_absent = {}, std::string_view source = {});
  // The account owning an inbound message's tag ("" when no account owns it, when it does not
  // decode, or when it is quarantined): how the worker pool picks the message's worker. Decoded as
  // handle decodes, after the same quarantine check and watched by the crash guard, so a message
  // whose decoding crashes is named in the report and refused when it comes back.
  std::string_view inbound_owner(std::string_view topic, std::string_view body);
  // Refuses an ingest message without decoding it (e.g. forbidden to its publisher): counted
  // under the rejection's reason and dead-lettered like a message the decoder refused.
  void refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body,
              std::string_view source = {});

  // In a cluster: handle only the accounts ownership says are held here (null, the default: every
  // account). Other messages come back as not_owner and are counted, not kept. ownership
  // outlives this dispatcher.
  void set_ownership(const ShardOwnership* ownership);

  // Loads the retries an earlier run (or a shard's previous owner) left pending in the store, of
  // the accounts held here; throws store::StoreError.
  void load_pending_retries();
  // Forgets the waiting retries of accounts no longer held here; returns how many.
  std::size_t release_retries();
  // Forgets every waiting retry (they stay stored, for load_pending_retries); returns how many.
  std::size_t forget_retries();
  // The earliest due time (Unix ms) of a pending retry, if any.
  std::optional<std::int64_t> next_retry_due_ms() const;
  // Runs up to `max` retries due at now_ms (Unix ms), each to completion; returns how many ran.
  // Never throws.
  std::size_t run_due_retries(std::int64_t now_ms, std::size_t max);
  std::size_t retries_waiting() const;
  // The waiting retries counted by their account's shard (shards entries).
  std::vector<std::size_t> retries_waiting_by_shard(std::uint32_t shards) const;
  // Writes what the dispatcher holds for the current batch (repeated dead letters counted in
  // memory); call it before the batch commits. Never throws.
  void end_batch();
  // Logs how many dead-letter warnings the rate limit held back (call it from time to time).
  void flush_suppressed_logs();

  // Turns the previous process's crash into a dead letter (CrashGuard::recover_previous_crash),
  // then keeps guard's in-flight context current and refuses quarantined messages. guard outlives
  // this dispatcher.
  void guard_crashes(CrashGuard& guard);
  // For the other dispatchers of a pool: refuses the messages guard quarantined, and names what
  // it runs in in_flight (its own record; the thread running it points the crash handler at it
  // with crash::ThreadInFlight). guard and in_flight outlive this dispatcher.
  void share_quarantine(const CrashGuard& guard, crash::InFlight& in_flight);

  // Replaces the runtime (config reload); takes effect for the next message.
  void replace_runtime(std::shared_ptr<const Runtime> runtime);
  const Runtime& runtime() const;

  const Counters& counters() const;

  // Tells observer about every routed event, route and step from now on (null: nobody).
  void set_observer(ChainObserver* observer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vumi::dispatch
