// tag_router: routes an inbound user message on a "pool:tag" to the conversation that claims the tag.
// Written only against the public SDK (vumi/plugin.hpp) and Boost.JSON.
#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>
#include <vumi/plugin.hpp>

#include "shared/plugin_support.hpp"

namespace {

namespace json = boost::json;
using vumi::sdk::StepResult;
using vumi_plugins::inbound_user_message;
using vumi_plugins::is_identifier;
using vumi_plugins::kNoOptionsSchema;
using vumi_plugins::not_inbound_message;

// The message's "pool:tag" from helper_metadata.tag.tag = [pool, tag], if it has one.
std::optional<std::string> message_tag(const json::object& message) {
  const json::value* helper = message.if_contains("helper_metadata");
  const json::value* tag = helper && helper->is_object() ? helper->as_object().if_contains("tag") : nullptr;
  const json::value* pair = tag && tag->is_object() ? tag->as_object().if_contains("tag") : nullptr;
  if (!pair || !pair->is_array() || pair->as_array().size() != 2) return std::nullopt;
  const json::array& a = pair->as_array();
  if (!a[0].is_string() || !a[1].is_string()) return std::nullopt;
  return std::string(a[0].as_string()) + ":" + std::string(a[1].as_string());
}

class TagRouter {
 public:
  static constexpr const char* kName = "tag_router";
  static constexpr const char* kDescription =
      "Routes an inbound message on a tag to the conversation mapped to it and stops the chain; unmapped "
      "tags "
      "continue.";
  static constexpr const char* kOptionsSchema = kNoOptionsSchema;
  static constexpr const char* kStepSchema = R"({
    "type": "object",
    "properties": {
      "routes": {"type": "object", "additionalProperties": {"type": "string"},
        "description": "\"pool:tag\" -> conversation_key of the conversation that receives messages on that tag."},
      "conversation_types": {"type": "object", "additionalProperties": {"type": "string"},
        "description": "conversation_key -> conversation_type; default: the account's declared conversations."}
    },
    "required": ["routes"],
    "additionalProperties": false
  })";
  static constexpr const char* kOutput =
      "when routed: tag, conversation_key, conversation_type (the chain then stops)";
  static constexpr vumi_threading kThreading = VUMI_THREADING_REENTRANT;

  explicit TagRouter(vumi::sdk::Options) {}

  // `check` and `run`: every routed tag is one of the account's tags and every target conversation
  // is declared in the account (templated targets are known only per event and are not judged).
  static void validate(vumi::sdk::StepCheck& check) {
    // Runs once per account at load (100,000 times for as many accounts): both documents are
    // small, so they are parsed into one stack buffer instead of a heap node each.
    unsigned char buffer[4096];
    json::monotonic_resource memory(buffer, sizeof buffer);
    const json::value config = json::parse(check.config_json(), &memory);
    const json::value account = json::parse(check.account_json(), &memory);
    const json::object& routes = config.at("routes").as_object();  // the schema requires it
    const std::string key(account.at("key").as_string());
    const json::array& tags = account.at("tags").as_array();
    const json::object& conversations = account.at("conversations").as_object();
    auto list = [](const auto& names) {
      std::string out;
      for (const auto& name : names) out += (out.empty() ? "" : ", ") + std::string(name);
      return out.empty() ? std::string("none") : out;
    };
    std::vector<std::string_view> tag_names, declared;
    for (const json::value& tag : tags) tag_names.push_back(tag.as_string());
    for (const auto& conversation : conversations) declared.push_back(conversation.key());

    for (const auto& [tag, target] : routes) {
      const std::string path = "routes." + std::string(tag);
      if (std::find(tag_names.begin(), tag_names.end(), tag) == tag_names.end())
        check.error(path, "tag " + json::serialize(json::string(tag)) + " is not one of account \"" + key +
                              "\"'s tags (" + list(tag_names) + ")");
      const std::string_view conversation = target.as_string();
      if (conversation.find("{{") != std::string_view::npos) continue;
      if (!conversations.contains(conversation))
        check.error(path, "conversation " + json::serialize(json::string(conversation)) +
                              " is not declared in accounts." + key +
                              ".conversations (declared: " + list(declared) + ")");
    }
  }

  StepResult handle(vumi::sdk::Call& call) {
    if (auto problem = not_inbound_message(kName, call.event_type())) return StepResult::fail(*problem);
    const json::value config = json::parse(call.config_json());
    const json::value* routes = config.is_object() ? config.as_object().if_contains("routes") : nullptr;
    if (!routes || !routes->is_object())
      return StepResult::fail("config.routes: must be an object of \"pool:tag\" -> conversation_key");
    const json::value* types = config.as_object().if_contains("conversation_types");

    auto parsed = inbound_user_message(call.event_json());
    if (auto* problem = std::get_if<std::string>(&parsed)) return StepResult::fail(*problem);
    json::object& message = std::get<json::object>(parsed);

    // The host names the tag in conversation_key; a message's own helper_metadata.tag is the fallback.
    std::optional<std::string> tag;
    if (call.conversation_type() == "transport" &&
        call.conversation_key().find(':') != std::string_view::npos)
      tag = std::string(call.conversation_key());
    else
      tag = message_tag(message);
    if (!tag)
      return StepResult::fail(
          "the inbound message has no tag: conversation_key is not \"pool:tag\" and helper_metadata.tag.tag "
          "is "
          "missing");

    const json::value* target = routes->as_object().if_contains(*tag);
    if (!target) {
      call.debug("tag " + *tag + " is not routed; continuing");
      return StepResult::next();
    }
    if (!target->is_string() || !is_identifier(target->as_string()))
      return StepResult::fail("config.routes." + *tag + ": must be a conversation_key, got " +
                              json::serialize(*target));
    const std::string conversation_key(target->as_string());

    // Without conversation_types, the account's declared conversations (from the host) give the type.
    json::value account;
    if (!types) {
      if (std::optional<std::string_view> text = call.account_json()) {
        account = json::parse(*text);
        types = account.as_object().if_contains("conversations");
      }
    }
    const json::value* type =
        types && types->is_object() ? types->as_object().if_contains(conversation_key) : nullptr;
    if (!type)
      return StepResult::fail("conversation \"" + conversation_key + "\" (routed from tag " + *tag +
                              ") has no conversation_type: declare it in the account's conversations or "
                              "give config.conversation_types");
    if (!type->is_string() || !is_identifier(type->as_string()))
      return StepResult::fail("config.conversation_types." + conversation_key +
                              ": must be a conversation type, got " + json::serialize(*type));
    const std::string conversation_type(type->as_string());

    json::value& helper = message["helper_metadata"];
    if (!helper.is_object()) helper = json::object{};
    json::value& go = helper.as_object()["go"];
    if (!go.is_object()) go = json::object{};
    go.as_object()["user_account"] = call.account_key();
    go.as_object()["conversation_key"] = conversation_key;
    go.as_object()["conversation_type"] = conversation_type;

    call.publish("conversation." + conversation_type + "." + conversation_key, json::serialize(message));
    call.metric_add("messages_routed");
    call.set_output(json::serialize(json::object{
        {"tag", *tag}, {"conversation_key", conversation_key}, {"conversation_type", conversation_type}}));
    return StepResult::stop();
  }
};

}  // namespace

VUMI_PLUGIN("tag_router", "1.0.0", TagRouter)
