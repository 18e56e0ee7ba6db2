// vumi's TransportUserMessage.reply() (vumi/message.py) over Boost.JSON, header-only: the default
// account handler's auto-reply and the dispatcher's tag pool reply are built here, so both answer
// exactly as a vumi worker would. Written only against the standard library and Boost.JSON.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace vumi_plugins {

// The value of `key` in `message`, or `fallback` when absent (vumi's message defaults).
inline boost::json::value field_or(const boost::json::object& message, std::string_view key,
                                   boost::json::value fallback = nullptr) {
  const boost::json::value* v = message.if_contains(key);
  return v ? *v : fallback;
}

// The routing endpoint the message came in on: routing_metadata.endpoint_name, or "default".
inline boost::json::value routing_endpoint(const boost::json::object& message) {
  const boost::json::value* routing = message.if_contains("routing_metadata");
  const boost::json::value* name =
      routing && routing->is_object() ? routing->as_object().if_contains("endpoint_name") : nullptr;
  return name && name->is_string() ? *name : boost::json::value("default");
}

// A user_message answering `message` as reply() makes it: to/from addresses and their address types
// swapped, in_reply_to the message's message_id, group, provider, transport_name, transport_type,
// transport_metadata and helper_metadata copied, routing_metadata naming the same endpoint, and
// session_event "close" when close_session (reply(content, continue_session=False)), else null.
inline boost::json::object vumi_reply(const boost::json::object& message, std::string_view content,
                                      std::string_view message_id, std::string_view timestamp,
                                      bool close_session) {
  namespace json = boost::json;
  json::value helper = field_or(message, "helper_metadata", json::object{});
  if (!helper.is_object()) helper = json::object{};
  json::value transport_metadata = field_or(message, "transport_metadata", json::object{});
  return json::object{
      {"message_version", "20110921"},
      {"message_type", "user_message"},
      {"timestamp", timestamp},
      {"routing_metadata", json::object{{"endpoint_name", routing_endpoint(message)}}},
      {"helper_metadata", std::move(helper)},
      {"message_id", message_id},
      {"in_reply_to", field_or(message, "message_id")},
      {"provider", field_or(message, "provider")},
      {"session_event", close_session ? json::value("close") : json::value(nullptr)},
      {"content", content},
      {"transport_metadata", std::move(transport_metadata)},
      {"group", field_or(message, "group")},
      {"to_addr_type", field_or(message, "from_addr_type")},
      {"from_addr_type", field_or(message, "to_addr_type")},
      {"to_addr", field_or(message, "from_addr")},
      {"from_addr", field_or(message, "to_addr")},
      {"transport_name", field_or(message, "transport_name")},
      {"transport_type", field_or(message, "transport_type")},
  };
}

// True when `message` belongs to a session (session_event "new" or "resume"): a reply to it closes
// the session, as vumi's unroutable and default replies do.
inline bool in_session(const boost::json::object& message) {
  const boost::json::value* event = message.if_contains("session_event");
  return event && event->is_string() && (event->as_string() == "new" || event->as_string() == "resume");
}

}  // namespace vumi_plugins
