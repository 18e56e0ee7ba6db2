// The data path: one ingest message in; decode, route, run chains, record effects.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "dispatch/counters.hpp"
#include "dispatch/outbound.hpp"
#include "dispatch/runtime.hpp"
#include "event/rejection.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<const Runtime> runtime, store::StateStore& store, OutboundSink& outbound);
  ~Dispatcher();

  // Handles one ingest message [topic, body] to completion (its chains and every event they emit).
  // Never throws; a refused message is logged, counted and, where it carries work, dead-lettered.
  // `source` names where it came from in dead letters (e.g. "ingest tcp://... from 10.0.0.5").
  void handle(std::string_view topic, std::string_view body, std::string_view source = {});
  // Refuses an ingest message without decoding it (e.g. forbidden to its publisher): counted
  // under the rejection's reason and dead-lettered like a message the decoder refused.
  void refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body,
              std::string_view source = {});

  // Loads the retries an earlier run left pending in the store; throws store::StoreError.
  void load_pending_retries();
  // The earliest due time (Unix ms) of a pending retry, if any.
  std::optional<std::int64_t> next_retry_due_ms() const;
  // Runs up to `max` retries due at now_ms (Unix ms), each to completion; returns how many ran.
  // Never throws.
  std::size_t run_due_retries(std::int64_t now_ms, std::size_t max);
  std::size_t retries_waiting() const;
  // Writes what the dispatcher holds for the current batch (repeated dead letters counted in
  // memory); call it before the batch commits. Never throws.
  void end_batch();
  // Logs how many dead-letter warnings the rate limit held back (call it from time to time).
  void flush_suppressed_logs();

  // Replaces the runtime (config reload); takes effect for the next message.
  void replace_runtime(std::shared_ptr<const Runtime> runtime);
  const Runtime& runtime() const;

  const Counters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vumi::dispatch
