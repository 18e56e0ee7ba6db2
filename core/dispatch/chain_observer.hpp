// What a chain run looked like, step by step, for those who watch it: the run history of the
// admin API and the dry run (explain). The dispatcher runs without one unless it is set.
#pragma once

#include <vumi/plugin.h>

#include <boost/json/value.hpp>
#include <string_view>

#include "dispatch/route_index.hpp"
#include "event/envelope.hpp"

namespace vumi::dispatch {

struct StepRecord {
  std::size_t index = 0;
  const Step* step = nullptr;
  std::string_view config;      // the rendered config the handler saw (empty if rendering failed)
  int result = VUMI_STEP_FAIL;  // a vumi_step_result
  const boost::json::value* output = nullptr;  // the step's output, when it set one
  std::string_view error;                      // why it failed (template or handler), else empty
  double seconds = 0;
};

class ChainObserver {
 public:
  virtual ~ChainObserver() = default;
  // An event of an account matched no route.
  virtual void event_unrouted(const Account& account, const event::Envelope& event) = 0;
  // An event of an account matched routes; route_started follows for each.
  virtual void event_started(const Account& account, const event::Envelope& event) {
    (void)account;
    (void)event;
  }
  virtual void route_started(const Route& route, const Account& account, const event::Envelope& event) = 0;
  virtual void step_done(const StepRecord& step) = 0;
  virtual void route_done(bool ok) = 0;
};

}  // namespace vumi::dispatch
