// The daemon's status line: what it has received, dispatched, refused and sent.
#pragma once

#include <string>

#include "dispatch/counters.hpp"
#include "transport/ingest_reader.hpp"
#include "transport/outbound_publisher.hpp"

namespace vumi::transport {

// One line of key=value pairs, stable for scripts and tests:
// "received=12 dispatched=10 chains=10 chains_failed=1 unrouted=0 emitted=2 commands=1 rejected=3
//  (bad_frames=1 invalid_json=2) dead_letters=4 outbound_sent=13 undeliverable=0 outbound_failed=0"
// received counts every ingest message, bad_frames ones included; rejected lists only non-zero reasons.
std::string status_line(const dispatch::Counters& dispatch, const IngestCounters& ingest,
                        const OutboundCounters& outbound);

}  // namespace vumi::transport
