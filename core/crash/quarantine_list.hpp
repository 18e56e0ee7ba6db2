// The keys of messages that crashed the daemon (crash/message_key.hpp), checked for every ingest
// message while any are held: a resent copy is refused instead of run again.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/string_hash.hpp"

namespace vumi::crash {

class QuarantineList {
 public:
  // Adds a key made by event_key or body_key; other strings are ignored (false).
  bool add(std::string_view key);

  bool empty() const { return event_ids_.empty() && body_keys_.empty(); }
  std::size_t size() const { return event_ids_.size() + body_keys_.size(); }

  // The key this message is held under by its topic and body (hashed only while body keys are held).
  std::optional<std::string> match_body(std::string_view topic, std::string_view body) const;
  // The key held for the event id a message carried.
  std::optional<std::string> match_event(std::string_view event_id) const;

 private:
  std::unordered_set<std::string, StringHash, std::equal_to<>> event_ids_;  // without "event:"
  std::unordered_set<std::string, StringHash, std::equal_to<>> body_keys_;  // "body:..."
};

}  // namespace vumi::crash
