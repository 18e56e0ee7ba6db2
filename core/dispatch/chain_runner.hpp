// Runs one route's chain for one event: renders each step's config, calls the handler through
// the ABI, keeps outputs for later steps, and turns a failure into a dead letter.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <vector>

#include "crash/in_flight.hpp"
#include "dispatch/chain_observer.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/route_index.hpp"
#include "dispatch/step_services.hpp"
#include "event/envelope.hpp"

namespace vumi::dispatch {

class ChainRunner {
 public:
  ChainRunner(StepServices& services, DeadLetterRecorder& dead_letters, Counters& counters);

  // Runs the chain to its end, a stop, or a failure (recorded as a dead letter). True unless it failed.
  bool run(const Route& route, const Account& account, const event::Envelope& event);
  // Tells observer about every route and step from now on (null: nobody).
  void set_observer(ChainObserver* observer) { observer_ = observer; }

  // Names each plugin call in in_flight before it is made (for the crash report); null: none.
  void watch_in_flight(crash::InFlight* in_flight) { in_flight_ = in_flight; }

 private:
  StepTimings& step_timings(const std::string& handler_type);
  void fail(const Route& route, const Step& step, std::size_t index, const event::Envelope& event,
            std::string message);
  // Why rendered_ does not fit the step's schema (JSON paths named), or "" when it does.
  std::string rendered_config_problem(const Step& step);

  StepServices& services_;
  DeadLetterRecorder& dead_letters_;
  Counters& counters_;
  crash::InFlight* in_flight_ = nullptr;
  boost::json::object steps_;  // outputs by "as" name; reused across chains
  std::string rendered_;       // a templated step's rendered config; reused
  std::string render_error_;
  ChainObserver* observer_ = nullptr;
  boost::json::value rendered_value_;  // rendered_ parsed for the schema check; reused
  std::vector<std::pair<std::string, std::string>> schema_errors_;
};

}  // namespace vumi::dispatch
