// The ingest topic prefixes a cluster member subscribes to (docs/scale-out.md): its accounts'
// events only, and every inbound and transport message (it skips those of other shards' accounts).
#pragma once

#include <string>
#include <vector>

#include "dispatch/account_ownership.hpp"

namespace vumi::cluster {

// "event.<account>." for each account ownership holds, "inbound.", "transport_event." and
// "conversation_outbound." always, and "command." while it holds shard 0 (forwarded commands
// belong to no account). Sorted.
std::vector<std::string> ingest_prefixes(const dispatch::ShardOwnership& ownership,
                                         const std::vector<std::string>& accounts);

}  // namespace vumi::cluster
