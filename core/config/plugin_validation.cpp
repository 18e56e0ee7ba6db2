// validate_against_plugins: the checks that need the loaded handler types (docs/config.md).
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "common/closest_name.hpp"
#include "common/json.hpp"
#include "config/config.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/schema.hpp"
#include "plugin/step_validation.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

// The account's declared configuration as plugins see it: {"key", "conversations", "tags"}.
std::string account_json(const AccountSpec& account) {
  bj::object conversations;
  for (const auto& [key, type] : account.conversations) conversations[key] = type;
  bj::array tags(account.tags.begin(), account.tags.end());
  return bj::serialize(bj::object{
      {"key", account.key}, {"conversations", std::move(conversations)}, {"tags", std::move(tags)}});
}

void add_schema_errors(std::vector<std::pair<std::string, std::string>>& found,
                       std::vector<ConfigError>& errors) {
  for (auto& [path, message] : found) errors.push_back({std::move(path), std::move(message)});
  found.clear();
}

}  // namespace

namespace {

// The handler type of a handler spec, or null after an error naming the unknown type; options_ok
// tells whether its options passed their schema.
std::shared_ptr<const plugin::HandlerType> handler_type(const HandlerSpec& handler,
                                                        const plugin::PluginRegistry& registry,
                                                        std::vector<ConfigError>& errors, bool& options_ok) {
  options_ok = false;
  if (handler.type.empty()) return nullptr;  // already reported by parse_config
  auto type = registry.find(handler.type);
  if (!type) {
    std::vector<std::string> known = registry.type_names();
    std::string message =
        "unknown handler type " + json::quoted(handler.type) + " (known: " + join_names(known) + ")";
    if (auto guess = closest_name(handler.type, known))
      message += "; did you mean " + json::quoted(*guess) + "?";
    errors.push_back({handler.path + ".type", std::move(message)});
    return nullptr;
  }
  std::vector<std::pair<std::string, std::string>> found;
  plugin::validate_against_schema(handler.options, type->options_schema, handler.path + ".options", {},
                                  found);
  options_ok = found.empty();
  add_schema_errors(found, errors);
  return type;
}

}  // namespace

void validate_account_against_plugins(const AccountSpec& account, const std::vector<HandlerSpec>& handlers,
                                      const plugin::PluginRegistry& registry,
                                      std::vector<ConfigError>& errors) {
  std::set<std::string, std::less<>> options_refused;  // the account's handlers whose options failed
  for (const auto& handler : account.handlers) {
    bool options_ok = false;
    handler_type(handler, registry, errors, options_ok);
    if (!options_ok) options_refused.insert(handler.name);
  }
  std::vector<std::pair<std::string, std::string>> found;
  plugin::SchemaOptions step_options;
  step_options.allow_templates = true;
  std::string account_text;  // built once per account, for the first step that wants it
  for (const auto& route : account.routes) {
    for (const auto& step : route.chain) {
      auto named = [&](const HandlerSpec& h) { return h.name == step.handler; };
      // The account's own handlers come first: they may shadow a global one of the same name.
      const HandlerSpec* spec = nullptr;
      bool own_handler = false;
      if (auto own = std::find_if(account.handlers.begin(), account.handlers.end(), named);
          own != account.handlers.end()) {
        spec = &*own;
        own_handler = true;
      } else if (auto global = std::find_if(handlers.begin(), handlers.end(), named);
                 global != handlers.end()) {
        spec = &*global;
      }
      if (!spec) continue;  // unknown handler: reported by parse_config
      auto type = registry.find(spec->type);
      if (!type) continue;  // reported once, at the handler
      bool options_ok = own_handler ? !options_refused.contains(spec->name) : true;
      if (!own_handler) {  // a global handler's options were reported once, at the handler
        std::vector<std::pair<std::string, std::string>> quiet;
        plugin::validate_against_schema(spec->options, type->options_schema, "", {}, quiet);
        options_ok = quiet.empty();
      }
      const std::string config_path = step.path + ".config";
      plugin::validate_against_schema(step.config(), type->step_schema, config_path, step_options, found);
      // The plugin's own checks (ABI 1.1 validate) see only configs its schemas accept.
      const bool schemas_passed = found.empty() && options_ok;
      add_schema_errors(found, errors);
      if (!schemas_passed || !type->abi.validate) continue;
      if (account_text.empty()) account_text = account_json(account);
      for (plugin::StepProblem& problem : plugin::validate_step(*type, bj::serialize(spec->options),
                                                                bj::serialize(step.config()), account_text))
        errors.push_back({plugin::step_problem_path(config_path, problem.path), std::move(problem.message)});
    }
  }
}

void validate_against_plugins(const Config& config, const plugin::PluginRegistry& registry,
                              std::vector<ConfigError>& errors) {
  for (const auto& handler : config.handlers) {
    bool options_ok = false;
    handler_type(handler, registry, errors, options_ok);
  }
  for (const auto& account : config.accounts)
    validate_account_against_plugins(account, config.handlers, registry, errors);
}

}  // namespace vumi::config
