// send_sms: publishes an outbound Vumi user_message on outbound.<transport_name>.
// Written only against the public SDK (vumi/plugin.hpp) and Boost.JSON.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vumi/plugin.hpp>

#include "shared/plugin_support.hpp"

namespace {

namespace json = boost::json;
using vumi::sdk::StepResult;
using vumi_plugins::is_identifier;
using vumi_plugins::trim;
using vumi_plugins::vumi_timestamp_now;

// A string option: nullopt when absent or null; throws naming the option when it is another type.
std::optional<std::string> string_option(const json::object& options, std::string_view key) {
  const json::value* v = options.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string())
    throw std::invalid_argument("options." + std::string(key) + ": must be a string, got " +
                                json::serialize(*v));
  return std::string(v->as_string());
}

class SendSms {
 public:
  static constexpr const char* kName = "send_sms";
  static constexpr const char* kDescription =
      "Sends an SMS: publishes a Vumi user_message on outbound.<transport_name>.";
  static constexpr const char* kOptionsSchema = R"({
    "type": "object",
    "properties": {
      "transport_name": {"type": "string", "description": "Transport that sends the message; the message goes out on outbound.<transport_name>."},
      "transport_type": {"type": "string", "default": "sms", "description": "The message's transport_type."},
      "from_addr": {"type": ["string", "null"], "description": "Sender address; null (the default) lets the transport choose."}
    },
    "required": ["transport_name"],
    "additionalProperties": false
  })";
  static constexpr const char* kStepSchema = R"({
    "type": "object",
    "properties": {
      "to_addr": {"type": "string", "description": "Recipient address, e.g. an msisdn; must not be empty."},
      "content": {"type": "string", "description": "Message text; must not be empty after rendering."},
      "conversation_key": {"type": "string", "description": "Conversation the message belongs to; defaults to the event's (none for transport events)."}
    },
    "required": ["to_addr", "content"],
    "additionalProperties": false
  })";
  static constexpr const char* kOutput = "message_id and to_addr of the published message";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit SendSms(vumi::sdk::Options options) {
    const json::value parsed = json::parse(options.json());
    if (!parsed.is_object()) throw std::invalid_argument("options: must be an object");
    const json::object& o = parsed.as_object();
    const auto name = string_option(o, "transport_name");
    if (!name) throw std::invalid_argument("options.transport_name: is required");
    if (!is_identifier(*name))
      throw std::invalid_argument("options.transport_name: \"" + *name +
                                  "\" is not an identifier ([A-Za-z0-9_:-], 1 to 128 characters)");
    transport_name_ = *name;
    transport_type_ = string_option(o, "transport_type").value_or("sms");
    if (trim(transport_type_).empty())
      throw std::invalid_argument("options.transport_type: must not be empty");
    from_addr_ = string_option(o, "from_addr");
  }

  StepResult handle(vumi::sdk::Call& call) {
    const json::value config = json::parse(call.config_json());
    if (!config.is_object()) return StepResult::fail("config: must be an object");
    const json::object& c = config.as_object();

    std::string to_addr, content;
    if (auto problem = required_text(c, "to_addr", to_addr)) return StepResult::fail(*problem);
    if (auto problem = required_text(c, "content", content)) return StepResult::fail(*problem);
    to_addr = std::string(trim(to_addr));

    json::value conversation_key = nullptr;
    if (const json::value* given = c.if_contains("conversation_key"); given && !given->is_null()) {
      if (!given->is_string() || given->as_string().empty())
        return StepResult::fail("config.conversation_key: must be a non-empty string, got " +
                                json::serialize(*given));
      conversation_key = *given;
    } else if (call.conversation_type() != "transport") {
      // A "transport" event's conversation_key is the tag, not a conversation.
      conversation_key = call.conversation_key();
    }

    const std::string message_id = call.new_id();
    json::object go{{"user_account", call.account_key()}};
    if (!conversation_key.is_null()) go["conversation_key"] = conversation_key;
    json::object message{
        {"message_version", "20110921"},
        {"message_type", "user_message"},
        {"timestamp", vumi_timestamp_now()},
        {"message_id", message_id},
        {"to_addr", to_addr},
        {"from_addr", from_addr_ ? json::value(*from_addr_) : json::value(nullptr)},
        {"content", content},
        {"transport_name", transport_name_},
        {"transport_type", transport_type_},
        {"in_reply_to", nullptr},
        {"session_event", nullptr},
        {"helper_metadata", json::object{{"go", std::move(go)}}},
        {"transport_metadata", json::object{}},
    };
    try {
      call.publish("outbound." + transport_name_, json::serialize(message));
    } catch (const vumi::sdk::HostError& e) {
      // The host could not take the message now (transport or state unavailable): nothing was
      // sent, so running this step again later is safe. A refused argument would be refused again.
      if (e.status() == VUMI_ERR_UNAVAILABLE || e.status() == VUMI_ERR_INTERNAL ||
          e.status() == VUMI_ERR_LIMIT)
        return StepResult::retry("outbound." + transport_name_ + ": " + e.what());
      throw;
    }
    call.metric_add("messages_sent");
    call.set_output(json::serialize(json::object{{"message_id", message_id}, {"to_addr", to_addr}}));
    return StepResult::next();
  }

 private:
  // Reads a string that must not be blank; returns the problem otherwise.
  static std::optional<std::string> required_text(const json::object& c, std::string_view key,
                                                  std::string& out) {
    const std::string where = "config." + std::string(key);
    const json::value* v = c.if_contains(key);
    if (!v) return where + ": is required";
    if (!v->is_string()) return where + ": must be a string, got " + json::serialize(*v);
    if (trim(v->as_string()).empty()) return where + ": must not be empty";
    out = std::string(v->as_string());
    return std::nullopt;
  }

  std::string transport_name_;
  std::string transport_type_;
  std::optional<std::string> from_addr_;
};

}  // namespace

VUMI_PLUGIN("send_sms", "1.0.0", SendSms)
