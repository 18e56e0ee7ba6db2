#include "transport/topic_derivation.hpp"

#include <optional>

#include "common/identifier.hpp"
#include "common/json.hpp"

namespace vumi::transport {

namespace {

// The identifier at body[key], or the Rejection saying why it cannot be used in a topic.
Expected<std::string, event::Rejection> identifier_field(const boost::json::object& body, const char* key,
                                                         const char* hint = "") {
  const auto* v = body.if_contains(key);
  if (!v) return event::Rejection{event::Reason::missing_field, std::string(key) + hint};
  if (!v->is_string()) {
    return event::Rejection{
        event::Reason::wrong_type,
        std::string(key) + " is " + std::string(json::type_name(*v)) + ", expected string"};
  }
  std::string_view s = v->get_string();
  if (auto checked = check_identifier(s); !checked) {
    return event::Rejection{event::Reason::bad_identifier,
                            std::string(key) + " " + json::quoted(s) + " " + checked.error().message};
  }
  return std::string(s);
}

bool has_tag(const boost::json::object& body) {
  const auto* meta = body.if_contains("helper_metadata");
  return meta && meta->is_object() && meta->get_object().contains("tag");
}

bool is_user_message(const boost::json::object& body) {
  const auto* type = body.if_contains("message_type");
  if (type && type->is_string() && type->get_string() == "user_message") return true;
  return body.contains("transport_name") && has_tag(body);
}

}  // namespace

Expected<std::string, event::Rejection> derive_topic(const boost::json::object& body) {
  if (body.contains("command") || body.contains("worker_name")) {
    auto worker = identifier_field(body, "worker_name");
    if (!worker) return std::move(worker).error();
    return "command." + *worker;
  }
  if (const auto* type = body.if_contains("message_type");
      type && type->is_string() && type->get_string() == "event") {
    auto transport = identifier_field(body, "transport_name");
    if (!transport) return std::move(transport).error();
    return "transport_event." + *transport;
  }
  if (is_user_message(body)) {
    auto transport = identifier_field(body, "transport_name");
    if (!transport) return std::move(transport).error();
    return "inbound." + *transport;
  }
  std::string topic = "event";
  for (const char* key : {"account_key", "conversation_type", "event_type"}) {
    const char* hint = std::string_view(key) == "conversation_type"
                           ? " (publish needs it for the topic; put it in the body or pass --topic)"
                           : "";
    auto part = identifier_field(body, key, hint);
    if (!part) return std::move(part).error();
    topic += '.';
    topic += *part;
  }
  return topic;
}

}  // namespace vumi::transport
