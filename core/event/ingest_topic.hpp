// The three ingest topic forms of wire protocol v1.
#pragma once

#include <string_view>

#include "common/expected.hpp"
#include "event/rejection.hpp"

namespace vumi::event {

struct IngestTopic {
  enum class Kind { event, inbound, command, transport_event, conversation_outbound };
  Kind kind = Kind::event;
  // event: account_key, conversation_type, event_type; inbound and transport_event: transport_name;
  // command: worker_name; conversation_outbound: conversation_type, conversation_key.
  std::string_view parts[3];
};

// Splits topic into its kind and identifier parts; bad_frames for an empty topic, bad_topic for
// anything that is not event.<account_key>.<conversation_type>.<event_type>,
// inbound.<transport_name>, command.<worker_name>, transport_event.<transport_name> or
// conversation_outbound.<conversation_type>.<conversation_key> with identifier parts.
Expected<IngestTopic, Rejection> parse_ingest_topic(std::string_view topic);

}  // namespace vumi::event
