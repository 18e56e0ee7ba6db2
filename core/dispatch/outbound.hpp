// Where the dispatcher's effects go: the outbound PUB socket in the daemon, a recorder in tests.
#pragma once

#include <string_view>

namespace vumi::dispatch {

class OutboundSink {
 public:
  virtual ~OutboundSink() = default;
  // Sends one [topic, body] message; never blocks and never throws. What cannot be delivered is
  // counted and logged by the sink.
  virtual void send(std::string_view topic, std::string_view body) = 0;
  // The account the sends that follow are made for ("" for none): the daemon's outbox records it
  // with each row, so a cluster member sends only its own accounts' rows (docs/scale-out.md).
  virtual void set_account(std::string_view account) { (void)account; }
};

}  // namespace vumi::dispatch
