#include "crash/quarantine_list.hpp"

#include "crash/message_key.hpp"

namespace vumi::crash {

bool QuarantineList::add(std::string_view key) {
  if (key.starts_with("event:") && key.size() > 6) {
    event_ids_.emplace(key.substr(6));
    return true;
  }
  if (key.starts_with("body:") && key.size() > 5) {
    body_keys_.emplace(key);
    return true;
  }
  return false;
}

std::optional<std::string> QuarantineList::match_body(std::string_view topic, std::string_view body) const {
  if (body_keys_.empty()) return std::nullopt;
  std::string key = body_key(topic, body);
  if (body_keys_.find(key) == body_keys_.end()) return std::nullopt;
  return key;
}

std::optional<std::string> QuarantineList::match_event(std::string_view event_id) const {
  if (event_ids_.empty() || event_ids_.find(event_id) == event_ids_.end()) return std::nullopt;
  return event_key(event_id);
}

}  // namespace vumi::crash
