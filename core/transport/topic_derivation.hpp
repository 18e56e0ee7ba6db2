// The ingest topic a body belongs on (the rules `vumi-dispatcher publish` uses; docs/protocol.md).
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "common/expected.hpp"
#include "event/rejection.hpp"

namespace vumi::transport {

// - a command (has "command" or "worker_name")                   -> command.<worker_name>
// - a transport event (message_type "event")                     -> transport_event.<transport_name>
// - a user_message (message_type "user_message", or transport_name
//   together with helper_metadata.tag)                            -> inbound.<transport_name>
// - anything else is taken for an event                           ->
// event.<account_key>.<conversation_type>.<event_type> A field the topic needs that is missing, not a string
// or not an identifier is a Rejection worded like the decoder's ("missing_field: conversation_type").
Expected<std::string, event::Rejection> derive_topic(const boost::json::object& body);

}  // namespace vumi::transport
