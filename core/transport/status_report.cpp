#include "transport/status_report.hpp"

#include "event/rejection.hpp"

namespace vumi::transport {

std::string status_line(const dispatch::Counters& dispatch, const IngestCounters& ingest,
                        const OutboundCounters& outbound) {
  auto rejected = dispatch.rejected;
  rejected[static_cast<std::size_t>(event::Reason::bad_frames)] += ingest.bad_frames;
  std::uint64_t rejected_total = 0;
  std::string by_reason;
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    if (rejected[i] == 0) continue;
    rejected_total += rejected[i];
    if (!by_reason.empty()) by_reason += ' ';
    by_reason += event::reason_code(static_cast<event::Reason>(i));
    by_reason += '=';
    by_reason += std::to_string(rejected[i]);
  }
  std::string out;
  auto add = [&out](const char* key, std::uint64_t value) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += std::to_string(value);
  };
  add("received", dispatch.received + ingest.bad_frames);
  add("dispatched", dispatch.events);  // events routed: from workers, inbound messages and emitted
  add("chains", dispatch.chains_run);
  add("chains_failed", dispatch.chains_failed);
  add("unrouted", dispatch.unrouted);
  add("emitted", dispatch.emitted);
  add("commands", dispatch.commands_forwarded);
  add("rejected", rejected_total);
  if (!by_reason.empty()) out += " (" + by_reason + ")";
  add("dead_letters", dispatch.dead_letters);
  if (dispatch.quarantined > 0) add("quarantined", dispatch.quarantined);
  add("outbound_sent", outbound.sent);
  add("undeliverable", outbound.undeliverable);
  add("outbound_failed", outbound.failed);
  return out;
}

}  // namespace vumi::transport
