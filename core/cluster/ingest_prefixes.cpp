#include "cluster/ingest_prefixes.hpp"

#include <algorithm>

namespace vumi::cluster {

std::vector<std::string> ingest_prefixes(const dispatch::ShardOwnership& ownership,
                                         const std::vector<std::string>& accounts) {
  std::vector<std::string> prefixes{"inbound.", "transport_event.", "conversation_outbound."};
  if (ownership.owns_unassigned()) prefixes.emplace_back("command.");
  for (const std::string& account : accounts) {
    if (ownership.owns(account)) prefixes.push_back("event." + account + ".");
  }
  std::sort(prefixes.begin(), prefixes.end());
  return prefixes;
}

}  // namespace vumi::cluster
