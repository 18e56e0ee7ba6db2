// @NAME@: a vumi-dispatcher plugin made from the SDK template (vumi-dispatcher new-plugin).
// One handler type, @NAME@, that labels the event's text: replace handle() with your own logic.
#include <boost/json.hpp>
#include <string>
#include <vumi/plugin.hpp>

namespace {

namespace json = boost::json;

class Handler {
 public:
  static constexpr const char* kName = "@NAME@";
  static constexpr const char* kDescription = "Labels a piece of text from the event and continues.";
  // The instance's "options" (handlers.<name>.options in the operator config).
  static constexpr const char* kOptionsSchema = R"({
    "type": "object",
    "properties": {
      "label": {"type": "string", "default": "note", "minLength": 1,
                "description": "Label put on every text this instance sees."}
    },
    "additionalProperties": false
  })";
  // A step's "config" (templates such as "{{/event/event_data/content}}" are rendered first).
  static constexpr const char* kStepSchema = R"({
    "type": "object",
    "properties": {
      "text": {"type": "string", "description": "The text to label, usually a template."}
    },
    "required": ["text"],
    "additionalProperties": false
  })";
  static constexpr const char* kOutput = "{label, text}";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;  // handle() keeps no state

  // Options are already valid against kOptionsSchema; throwing refuses the instance.
  explicit Handler(const vumi::sdk::Options& options) {
    const json::object o = json::parse(options.json()).as_object();
    if (const json::value* label = o.if_contains("label")) label_ = json::value_to<std::string>(*label);
  }

  // One step: return next(), stop() or fail("why"). Throwing fails the step with the message.
  vumi::sdk::StepResult handle(vumi::sdk::Call& call) {
    const json::object config = json::parse(call.config_json()).as_object();
    const std::string text = json::value_to<std::string>(config.at("text"));
    call.set_output(json::serialize(json::object{{"label", label_}, {"text", text}}));
    call.metric_add("texts_labelled");
    call.info(label_ + ": " + text);  // the daemon logs it as "[@NAME@/@NAME@] <label>: <text>"
    return vumi::sdk::StepResult::next();
  }

 private:
  std::string label_ = "note";
};

}  // namespace

VUMI_PLUGIN("@NAME@", "0.1.0", Handler)
