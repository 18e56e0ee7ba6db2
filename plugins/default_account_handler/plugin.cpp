// default_account_handler: keeps an unclaimed inbound message in the account's inbox, optionally
// auto-replies, and emits unrouted_message. Written only against the public SDK and Boost.JSON.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vumi/plugin.hpp>

#include "shared/plugin_support.hpp"
#include "shared/vumi_reply.hpp"

namespace {

namespace json = boost::json;
using vumi::sdk::StepResult;
using vumi_plugins::in_session;
using vumi_plugins::inbound_user_message;
using vumi_plugins::is_identifier;
using vumi_plugins::kNoOptionsSchema;
using vumi_plugins::not_inbound_message;
using vumi_plugins::trim;
using vumi_plugins::vumi_reply;
using vumi_plugins::vumi_timestamp_now;

// The inbound message field a reply needs, as a non-empty string; nullopt when missing or not one.
std::optional<std::string> text_field(const json::object& message, std::string_view key) {
  const json::value* v = message.if_contains(key);
  if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
  return std::string(v->as_string());
}

class DefaultAccountHandler {
 public:
  static constexpr const char* kName = "default_account_handler";
  static constexpr const char* kDescription =
      "Keeps an unclaimed inbound message in the account's inbox, optionally auto-replies, and emits "
      "unrouted_message.";
  static constexpr const char* kOptionsSchema = kNoOptionsSchema;
  static constexpr const char* kStepSchema = R"({
    "type": "object",
    "properties": {
      "auto_reply": {"type": ["string", "null"], "description": "Reply content sent back to the sender on the message's transport; absent or null: no reply."}
    },
    "additionalProperties": false
  })";
  static constexpr const char* kOutput =
      "inbox_id of the stored message, and reply_message_id when a reply was sent";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit DefaultAccountHandler(vumi::sdk::Options) {}

  StepResult handle(vumi::sdk::Call& call) {
    if (auto problem = not_inbound_message(kName, call.event_type())) return StepResult::fail(*problem);
    const json::value config = json::parse(call.config_json());
    if (!config.is_object()) return StepResult::fail("config: must be an object");
    std::optional<std::string> auto_reply;
    if (const json::value* r = config.as_object().if_contains("auto_reply"); r && !r->is_null()) {
      if (!r->is_string())
        return StepResult::fail("config.auto_reply: must be a string, got " + json::serialize(*r));
      if (trim(r->as_string()).empty()) return StepResult::fail("config.auto_reply: must not be empty");
      auto_reply = std::string(r->as_string());
    }

    const auto parsed = inbound_user_message(call.event_json());
    if (const auto* problem = std::get_if<std::string>(&parsed)) return StepResult::fail(*problem);
    const json::object& message = std::get<json::object>(parsed);

    // Everything the reply needs is checked before the inbox write, so a bad message stores nothing.
    std::optional<json::object> reply;
    if (auto_reply) {
      auto built = build_reply(call, message, *auto_reply);
      if (auto* problem = std::get_if<std::string>(&built)) return StepResult::fail(*problem);
      reply = std::move(std::get<json::object>(built));
    }

    const std::int64_t inbox_id = call.inbox_put(json::serialize(message));
    call.metric_add("messages_kept");
    json::object out{{"inbox_id", inbox_id}};
    if (reply) {
      call.publish("outbound." + std::string(reply->at("transport_name").as_string()),
                   json::serialize(*reply));
      call.metric_add("auto_replies_sent");
      out["reply_message_id"] = reply->at("message_id");
    }
    call.emit_event(json::serialize(json::object{
        {"event_type", "unrouted_message"},
        {"event_data", json::object{{"inbox_id", inbox_id}, {"message", message}}},
    }));
    call.set_output(json::serialize(out));
    return StepResult::next();
  }

 private:
  // A vumi reply() to `message`, or why it cannot be made.
  static std::variant<json::object, std::string> build_reply(vumi::sdk::Call& call,
                                                             const json::object& message,
                                                             const std::string& content) {
    const auto transport_name = text_field(message, "transport_name");
    if (!transport_name || !is_identifier(*transport_name))
      return std::string("cannot auto-reply: the inbound message has no usable transport_name");
    const auto message_id = text_field(message, "message_id");
    if (!message_id) return std::string("cannot auto-reply: the inbound message has no message_id");
    const auto from_addr = text_field(message, "from_addr");
    if (!from_addr) return std::string("cannot auto-reply: the inbound message has no from_addr to reply to");

    // vumi's reply(): addresses, group, provider and transport fields travel back, the session of a
    // USSD-style message is closed; helper_metadata.go names the account.
    json::object reply =
        vumi_reply(message, content, call.new_id(), vumi_timestamp_now(), in_session(message));
    json::object& helper = reply["helper_metadata"].as_object();
    json::value& go = helper["go"];
    if (!go.is_object()) go = json::object{};
    go.as_object()["user_account"] = call.account_key();
    return reply;
  }
};

}  // namespace

VUMI_PLUGIN("default_account_handler", "1.0.0", DefaultAccountHandler)
