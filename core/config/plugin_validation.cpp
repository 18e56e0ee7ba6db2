// validate_against_plugins: the checks that need the loaded handler types (docs/config.md).
#include <algorithm>
#include <boost/json/object.hpp>

#include "common/json.hpp"
#include "config/config.hpp"
#include "plugin/closest_name.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/schema.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

// The tag_router contract: its step config's "routes" maps tags the account owns to
// conversations the account declares.
void check_tag_routes(const AccountSpec& account, const StepSpec& step, std::vector<ConfigError>& errors) {
  const bj::value* routes = step.config.if_contains("routes");
  if (!routes || !routes->is_object()) return;  // the step schema reports a missing or mistyped "routes"
  std::string routes_path = step.path + ".config.routes";
  std::vector<std::string> declared;
  for (const auto& [key, type] : account.conversations) declared.push_back(key);
  for (const auto& [tag, conversation] : routes->get_object()) {
    std::string here = json::child_path(routes_path, tag);
    if (std::find(account.tags.begin(), account.tags.end(), tag) == account.tags.end()) {
      errors.push_back({here, "tag " + json::quoted(tag) + " is not one of account " +
                                  json::quoted(account.key) + "'s tags (" + plugin::join_names(account.tags) +
                                  ")"});
    }
    const bj::string* key = conversation.if_string();
    if (key && !account.conversations.contains(std::string(*key))) {
      errors.push_back({here, "conversation " + json::quoted(*key) + " is not declared in accounts." +
                                  account.key + ".conversations (declared: " + plugin::join_names(declared) +
                                  ")"});
    }
  }
}

void add_schema_errors(std::vector<std::pair<std::string, std::string>>& found,
                       std::vector<ConfigError>& errors) {
  for (auto& [path, message] : found) errors.push_back({std::move(path), std::move(message)});
  found.clear();
}

}  // namespace

namespace {

// The handler type of a handler spec, or null after an error naming the unknown type.
std::shared_ptr<const plugin::HandlerType> handler_type(const HandlerSpec& handler,
                                                        const plugin::PluginRegistry& registry,
                                                        std::vector<ConfigError>& errors) {
  if (handler.type.empty()) return nullptr;  // already reported by parse_config
  auto type = registry.find(handler.type);
  if (!type) {
    std::vector<std::string> known = registry.type_names();
    std::string message =
        "unknown handler type " + json::quoted(handler.type) + " (known: " + plugin::join_names(known) + ")";
    if (auto guess = plugin::closest_name(handler.type, known))
      message += "; did you mean " + json::quoted(*guess) + "?";
    errors.push_back({handler.path + ".type", std::move(message)});
    return nullptr;
  }
  std::vector<std::pair<std::string, std::string>> found;
  plugin::validate_against_schema(handler.options, type->options_schema, handler.path + ".options", {},
                                  found);
  add_schema_errors(found, errors);
  return type;
}

}  // namespace

void validate_account_against_plugins(const AccountSpec& account, const std::vector<HandlerSpec>& handlers,
                                      const plugin::PluginRegistry& registry,
                                      std::vector<ConfigError>& errors) {
  for (const auto& handler : account.handlers) handler_type(handler, registry, errors);
  std::vector<std::pair<std::string, std::string>> found;
  plugin::SchemaOptions step_options;
  step_options.allow_templates = true;
  for (const auto& route : account.routes) {
    for (const auto& step : route.chain) {
      auto named = [&](const HandlerSpec& h) { return h.name == step.handler; };
      // The account's own handlers come first: they may shadow a global one of the same name.
      const HandlerSpec* spec = nullptr;
      if (auto own = std::find_if(account.handlers.begin(), account.handlers.end(), named);
          own != account.handlers.end())
        spec = &*own;
      else if (auto global = std::find_if(handlers.begin(), handlers.end(), named); global != handlers.end())
        spec = &*global;
      if (!spec) continue;  // unknown handler: reported by parse_config
      if (spec->type == "tag_router") check_tag_routes(account, step, errors);
      auto type = registry.find(spec->type);
      if (!type) continue;  // reported once, at the handler
      plugin::validate_against_schema(step.config, type->step_schema, step.path + ".config", step_options,
                                      found);
      add_schema_errors(found, errors);
    }
  }
}

void validate_against_plugins(const Config& config, const plugin::PluginRegistry& registry,
                              std::vector<ConfigError>& errors) {
  for (const auto& handler : config.handlers) handler_type(handler, registry, errors);
  for (const auto& account : config.accounts)
    validate_account_against_plugins(account, config.handlers, registry, errors);
}

}  // namespace vumi::config
