// vumi_command: sends a VumiApiCommand on command.<worker_name>, as vumi-go's
// SendMessageCommandHandler does for an event (go/vumitools/handler.py). Written only against the
// public SDK (vumi/plugin.hpp) and Boost.JSON.
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
using vumi_plugins::kNoOptionsSchema;

class VumiCommand {
 public:
  static constexpr const char* kName = "vumi_command";
  static constexpr const char* kDescription =
      "Sends a VumiApiCommand (worker_name, command, args, kwargs, command_id) on command.<worker_name>, "
      "like vumi-go's SendMessageCommandHandler.";
  static constexpr const char* kOptionsSchema = kNoOptionsSchema;
  static constexpr const char* kStepSchema = R"({
    "type": "object",
    "properties": {
      "worker_name": {"type": "string", "description": "Worker that receives the command; it goes out on command.<worker_name>."},
      "command": {"type": "string", "default": "send_message", "description": "The command's name."},
      "conversation_key": {"type": "string", "description": "kwargs.conversation_key; defaults to the event's conversation_key."},
      "command_data": {"type": "object", "additionalProperties": true, "description": "kwargs.command_data; defaults to the event's event_data (VumiApiEvent content)."},
      "kwargs": {"type": "object", "additionalProperties": true, "description": "More kwargs, merged under the ones this handler sets."}
    },
    "required": ["worker_name"],
    "additionalProperties": false
  })";
  static constexpr const char* kOutput = "command_id and worker_name of the published command";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit VumiCommand(vumi::sdk::Options) {}

  StepResult handle(vumi::sdk::Call& call) {
    const json::value config = json::parse(call.config_json());
    if (!config.is_object()) return StepResult::fail("config: must be an object");
    const json::object& c = config.as_object();

    const json::value* worker = c.if_contains("worker_name");
    if (!worker || !worker->is_string() || !is_identifier(worker->as_string()))
      return StepResult::fail(
          "config.worker_name: must be a worker name ([A-Za-z0-9_:-], 1 to 128 characters)" +
          std::string(worker ? ", got " + json::serialize(*worker) : ""));
    const std::string worker_name(worker->as_string());

    std::string command = "send_message";
    if (const json::value* v = c.if_contains("command")) {
      if (!v->is_string() || v->as_string().empty())
        return StepResult::fail("config.command: must be a non-empty string, got " + json::serialize(*v));
      command = std::string(v->as_string());
    }

    json::value conversation_key = json::string(call.conversation_key());
    if (const json::value* v = c.if_contains("conversation_key")) {
      if (!v->is_string() || v->as_string().empty())
        return StepResult::fail("config.conversation_key: must be a non-empty string, got " +
                                json::serialize(*v));
      conversation_key = *v;
    }

    // command_data: the event's content (event_data), as SendMessageCommandHandler takes it, with
    // msg_options naming the account in helper_metadata.go.
    json::object command_data;
    if (const json::value* v = c.if_contains("command_data")) {
      if (!v->is_object())
        return StepResult::fail("config.command_data: must be an object, got " + json::serialize(*v));
      command_data = v->as_object();
    } else {
      const json::value event = json::parse(call.event_json());
      const json::value* data = event.as_object().if_contains("event_data");
      if (data && data->is_object()) command_data = data->as_object();
    }
    command_data["msg_options"] = json::object{
        {"helper_metadata", json::object{{"go", json::object{{"user_account", call.account_key()}}}}}};

    json::object kwargs;
    if (const json::value* v = c.if_contains("kwargs")) {
      if (!v->is_object())
        return StepResult::fail("config.kwargs: must be an object, got " + json::serialize(*v));
      kwargs = v->as_object();
    }
    kwargs["command_data"] = std::move(command_data);
    kwargs["conversation_key"] = conversation_key;
    kwargs["account_key"] = call.account_key();

    const std::string command_id = call.new_id();
    const json::object body{
        {"worker_name", worker_name},  {"command", command},       {"args", json::array{}},
        {"kwargs", std::move(kwargs)}, {"command_id", command_id},
    };
    call.publish("command." + worker_name, json::serialize(body));
    call.metric_add("commands_sent");
    call.set_output(json::serialize(json::object{{"command_id", command_id}, {"worker_name", worker_name}}));
    return StepResult::next();
  }
};

}  // namespace

VUMI_PLUGIN("vumi_command", "1.0.0", VumiCommand)
