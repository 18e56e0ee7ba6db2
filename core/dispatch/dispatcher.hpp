// The data path: one ingest message in; decode, route, run chains, record effects.
#pragma once

#include <memory>
#include <string_view>

#include "dispatch/chain_observer.hpp"
#include "dispatch/counters.hpp"
#include "dispatch/outbound.hpp"
#include "dispatch/runtime.hpp"
#include "event/rejection.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class CrashGuard;

class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<const Runtime> runtime, store::StateStore& store, OutboundSink& outbound);
  ~Dispatcher();

  // Handles one ingest message [topic, body] to completion (its chains and every event they emit).
  // Never throws; a refused message is logged, counted and, where it carries work, dead-lettered.
  void handle(std::string_view topic, std::string_view body);
  // Refuses an ingest message without decoding it (e.g. forbidden to its publisher): counted
  // under the rejection's reason and dead-lettered like a message the decoder refused.
  void refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body);

  // Turns the previous process's crash into a dead letter (CrashGuard::recover_previous_crash),
  // then keeps guard's in-flight context current and refuses quarantined messages. guard outlives
  // this dispatcher.
  void guard_crashes(CrashGuard& guard);

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
