// The example plugin: small handler types that exercise every way a step can end (continue with
// or without output, emit, stop, fail, throw). Written only against <vumi/plugin.hpp>, with
// Boost.JSON to read step configs, exactly as a third-party plugin would be.
#include <boost/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vumi/plugin.hpp>

namespace {

namespace json = boost::json;
using vumi::sdk::Call;
using vumi::sdk::Options;
using vumi::sdk::StepResult;

// No handler here takes options.
constexpr const char* kNoOptions = R"({"type":"object","properties":{},"additionalProperties":false})";

// The step config as an object. The host has validated it against the step schema, so a parse
// failure means a host bug; it still fails the step rather than crash.
json::object step_config(const Call& call) {
  boost::system::error_code error;
  json::value config = json::parse(call.config_json(), error);
  if (error) throw std::invalid_argument("step config is not JSON: " + error.message());
  if (!config.is_object()) throw std::invalid_argument("step config is not an object");
  return std::move(config.as_object());
}

// The string at key, or fallback when the key is absent.
std::string string_or(const json::object& config, std::string_view key, std::string_view fallback) {
  const json::value* value = config.if_contains(key);
  if (!value) return std::string(fallback);
  if (!value->is_string()) throw std::invalid_argument(std::string(key) + " must be a string");
  return std::string(value->get_string());
}

struct LogEvent {
  static constexpr const char* kName = "log_event";
  static constexpr const char* kDescription =
      "Logs \"<event_type> for <account>\" at info level and continues.";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema = R"({"type":"object","properties":{
      "message":{"type":"string","description":"Text appended to the log line; may use templates."}},
      "additionalProperties":false})";
  static constexpr const char* kOutput = "nothing";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit LogEvent(const Options&) {}
  StepResult handle(Call& call) {
    std::string line = std::string(call.event_type()) + " for " + std::string(call.account_key());
    const std::string message = string_or(step_config(call), "message", "");
    if (!message.empty()) line += ": " + message;
    call.info(line);
    return StepResult::next();
  }
};

struct SetOutput {
  static constexpr const char* kName = "set_output";
  static constexpr const char* kDescription = "Stores its configured object as the step's output.";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema = R"({"type":"object","properties":{
      "output":{"type":"object","additionalProperties":true,"description":"The object to store as steps.<as>."}},
      "required":["output"],"additionalProperties":false})";
  static constexpr const char* kOutput = "the configured output object";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit SetOutput(const Options&) {}
  StepResult handle(Call& call) {
    const json::object config = step_config(call);
    const json::value* output = config.if_contains("output");
    if (!output || !output->is_object()) return StepResult::fail("output must be an object");
    call.set_output(json::serialize(*output));
    return StepResult::next();
  }
};

struct EmitEvent {
  static constexpr const char* kName = "emit_event";
  static constexpr const char* kDescription = "Emits an event for the current account.";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema = R"({"type":"object","properties":{
      "event_type":{"type":"string","description":"Type of the emitted event."},
      "event_data":{"type":"object","additionalProperties":true,"default":{},"description":"Its event_data."},
      "conversation_key":{"type":"string","description":"Its conversation; the current one when absent."}},
      "required":["event_type"],"additionalProperties":false})";
  static constexpr const char* kOutput = "nothing";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit EmitEvent(const Options&) {}
  StepResult handle(Call& call) {
    const json::object config = step_config(call);
    const json::value* event_type = config.if_contains("event_type");
    if (!event_type || !event_type->is_string()) return StepResult::fail("event_type must be a string");
    json::object event;
    event["event_type"] = *event_type;
    const json::value* event_data = config.if_contains("event_data");
    event["event_data"] = event_data ? *event_data : json::object();
    if (const json::value* key = config.if_contains("conversation_key")) event["conversation_key"] = *key;
    call.emit_event(json::serialize(event));
    return StepResult::next();
  }
};

struct FailStep {
  static constexpr const char* kName = "fail_step";
  static constexpr const char* kDescription = "Fails the step with its configured message.";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema = R"({"type":"object","properties":{
      "message":{"type":"string","default":"failed on purpose","description":"The failure message."}},
      "additionalProperties":false})";
  static constexpr const char* kOutput = "nothing (the chain ends with a dead letter)";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit FailStep(const Options&) {}
  StepResult handle(Call& call) {
    return StepResult::fail(string_or(step_config(call), "message", "failed on purpose"));
  }
};

struct ThrowStep {
  static constexpr const char* kName = "throw_step";
  static constexpr const char* kDescription = "Throws an exception, to exercise the SDK's exception barrier.";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema =
      R"({"type":"object","properties":{},"additionalProperties":false})";
  static constexpr const char* kOutput = "nothing (the step fails with \"exception: thrown on purpose\")";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit ThrowStep(const Options&) {}
  StepResult handle(Call&) { throw std::runtime_error("thrown on purpose"); }
};

struct StopChain {
  static constexpr const char* kName = "stop_chain";
  static constexpr const char* kDescription = "Ends the chain successfully.";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema =
      R"({"type":"object","properties":{},"additionalProperties":false})";
  static constexpr const char* kOutput = "nothing";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit StopChain(const Options&) {}
  StepResult handle(Call&) { return StepResult::stop(); }
};

struct Noop {
  static constexpr const char* kName = "noop";
  static constexpr const char* kDescription = "Does nothing and continues (the cost floor of a step).";
  static constexpr const char* kOptionsSchema = kNoOptions;
  static constexpr const char* kStepSchema =
      R"({"type":"object","properties":{},"additionalProperties":false})";
  static constexpr const char* kOutput = "nothing";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit Noop(const Options&) {}
  StepResult handle(Call&) { return StepResult::next(); }
};

}  // namespace

VUMI_PLUGIN("example", "1.0.0", LogEvent, SetOutput, EmitEvent, FailStep, ThrowStep, StopChain, Noop)
