// Runs one route's chain for one event: renders each step's config, calls the handler through
// the ABI, keeps outputs for later steps, turns a failure into a dead letter and a retry (or a
// state store failure during a step) into a scheduled attempt.
#pragma once

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crash/in_flight.hpp"
#include "dispatch/chain_observer.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/retry_scheduler.hpp"
#include "dispatch/route_index.hpp"
#include "dispatch/step_services.hpp"
#include "event/envelope.hpp"

namespace vumi::dispatch {

class ChainRunner {
 public:
  ChainRunner(StepServices& services, DeadLetterRecorder& dead_letters, Counters& counters,
              RetryScheduler& retries);

  // Where a retried chain picks up: the step that asked, the outputs of the steps before it and
  // that step's attempts so far.
  struct ResumePoint {
    std::size_t step_index = 0;
    boost::json::object outputs;
    boost::json::array attempts;
  };

  // Runs the chain to its end, a stop, a failure (recorded as a dead letter) or a retry
  // (scheduled). True when it ended or stopped.
  bool run(const Route& route, const Account& account, const event::Envelope& event);
  // Runs the chain from a scheduled retry's step, with the earlier steps' outputs.
  bool resume(const Route& route, const Account& account, const event::Envelope& event, ResumePoint from);
  // Tells observer about every route and step from now on (null: nobody).
  void set_observer(ChainObserver* observer) { observer_ = observer; }

  // Names each plugin call in in_flight before it is made (for the crash report); null: none.
  void watch_in_flight(crash::InFlight* in_flight) { in_flight_ = in_flight; }

 private:
  bool run_from(const Route& route, const Account& account, const event::Envelope& event, std::size_t first,
                boost::json::array attempts);
  StepTimings& step_timings(const std::string& handler_type);
  void fail(const Route& route, const Step& step, std::size_t index, const event::Envelope& event,
            std::string message);
  // Why rendered_ does not fit the schema of the route's step index (JSON paths named), or "" when
  // it does.
  std::string rendered_config_problem(const Route& route, const Account& account, const Step& step,
                                      std::size_t index);
  static std::string step_name(const Step& step, std::size_t index);

  StepServices& services_;
  DeadLetterRecorder& dead_letters_;
  Counters& counters_;
  crash::InFlight* in_flight_ = nullptr;
  RetryScheduler& retries_;
  boost::json::object steps_;  // outputs by "as" name; reused across chains
  std::string rendered_;       // a templated step's rendered config; reused
  ChainObserver* observer_ = nullptr;
  // Declared before rendered_value_, so that it is destroyed while they still exist.
  alignas(std::max_align_t) unsigned char rendered_buffer_[4096];
  std::optional<boost::json::monotonic_resource> rendered_arena_;
  boost::json::value rendered_value_;  // rendered_ parsed for the schema check, in rendered_arena_
  std::string config_path_;            // "<step path>.config" of the step being checked
  std::vector<std::pair<std::string, std::string>> schema_errors_;
  // counters_.step_timings entries used last (step_timings()); null: none yet.
  std::array<std::pair<const std::string, StepTimings>*, 4> recent_timings_{};
  std::size_t next_recent_ = 0;
};

}  // namespace vumi::dispatch
