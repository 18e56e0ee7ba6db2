// validate_against_plugins: the checks that need the loaded handler types (docs/config.md).
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/closest_name.hpp"
#include "common/json.hpp"
#include "config/config.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/schema.hpp"
#include "plugin/step_validation.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

// The account's declared configuration as plugins see it: {"key", "conversations", "tags"}. Written
// directly: it is built for every account whose steps a plugin validates.
std::string account_json(const AccountSpec& account) {
  std::string text = "{\"key\":";
  json::append_quoted(text, account.key);
  text += ",\"conversations\":{";
  const char* separator = "";
  for (const auto& [key, type] : account.conversations) {
    text += separator;
    json::append_quoted(text, key);
    text += ':';
    json::append_quoted(text, type);
    separator = ",";
  }
  text += "},\"tags\":[";
  separator = "";
  for (const std::string& tag : account.tags) {
    text += separator;
    json::append_quoted(text, tag);
    separator = ",";
  }
  text += "]}";
  return text;
}

void add_schema_errors(std::vector<std::pair<std::string, std::string>>& found,
                       std::vector<ConfigError>& errors) {
  for (auto& [path, message] : found) errors.push_back({std::move(path), std::move(message)});
  found.clear();
}

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

// The checks of one pass over a config, with what they learn once and reuse for every account: the
// global handlers' types, whether their options pass and their options as text, and which step
// configs a type's step schema already accepted (equal configs share one Template program, so a
// config repeated by many accounts is checked once).
class PluginChecks {
 public:
  // With global_errors, the global handlers' problems are reported there (a whole config);
  // without, they are checked quietly (one account: they were reported when the config loaded).
  PluginChecks(const std::vector<HandlerSpec>& handlers, const plugin::PluginRegistry& registry,
               std::vector<ConfigError>* global_errors)
      : registry_(registry) {
    globals_.reserve(handlers.size());
    std::vector<ConfigError> quiet;
    for (const auto& h : handlers) add(globals_, h, global_errors ? *global_errors : quiet);
  }

  void account(const AccountSpec& account, std::vector<ConfigError>& errors) {
    own_.clear();
    for (const auto& handler : account.handlers) add(own_, handler, errors);
    std::string account_text;  // built once per account, for the first step that wants it
    for (std::size_t route_index = 0; route_index < account.routes.size(); ++route_index) {
      const RouteSpec& route = account.routes[route_index];
      for (std::size_t index = 0; index < route.chain.size(); ++index) {
        const StepSpec& step = route.chain[index];
        // The account's own handlers come first: they may shadow a global one of the same name.
        Handler* handler = find(own_, step.handler);
        if (!handler) handler = find(globals_, step.handler);
        if (!handler || !handler->type) continue;  // unknown handler or type: reported already
        const plugin::HandlerType& type = *handler->type;
        const bj::value& config = step.compiled.config_value();
        bool config_ok = accepted_.contains({&type, &config});
        if (!config_ok) {
          plugin::validate_against_schema(config, type.step_schema,
                                          step_path(account.key, route_index, index) + ".config",
                                          step_options(), found_);
          config_ok = found_.empty();
          if (config_ok) accepted_.insert({&type, &config});
          add_schema_errors(found_, errors);
        }
        // The plugin's own checks (ABI 1.1 validate) see only configs its schemas accept.
        if (!config_ok || !handler->options_ok || !type.abi.validate) continue;
        if (account_text.empty()) account_text = account_json(account);
        if (handler->options_text.empty()) handler->options_text = bj::serialize(handler->spec->options);
        const std::string config_text =
            step.compiled.is_static() ? step.compiled.static_text() : bj::serialize(step.config());
        for (plugin::StepProblem& problem :
             plugin::validate_step(type, handler->options_text, config_text, account_text))
          errors.push_back({plugin::step_problem_path(step_path(account.key, route_index, index) + ".config",
                                                      problem.path),
                            std::move(problem.message)});
      }
    }
  }

 private:
  struct Handler {
    const HandlerSpec* spec;
    std::shared_ptr<const plugin::HandlerType> type;  // null: unknown (reported at the handler)
    bool options_ok;                                  // whether spec->options pass the type's options schema
    std::string options_text;  // spec->options as JSON text, once a plugin's validate wants it
  };
  using Handlers = std::unordered_map<std::string_view, Handler>;

  // Checks a handler's type and options into errors; the first handler of a name wins.
  void add(Handlers& handlers, const HandlerSpec& spec, std::vector<ConfigError>& errors) {
    bool options_ok = false;
    auto type = handler_type(spec, registry_, errors, options_ok);
    handlers.try_emplace(spec.name, Handler{&spec, std::move(type), options_ok, {}});
  }

  static Handler* find(Handlers& handlers, std::string_view name) {
    auto it = handlers.find(name);
    return it == handlers.end() ? nullptr : &it->second;
  }

  static const plugin::SchemaOptions& step_options() {
    static const plugin::SchemaOptions options{.allow_templates = true};
    return options;
  }

  const plugin::PluginRegistry& registry_;
  Handlers globals_;
  Handlers own_;  // the account being checked: accounts.<key>.handlers
  // (type, config) pairs a step schema accepted: as many as distinct step configs (100,000+).
  struct PairHash {
    std::size_t operator()(const std::pair<const plugin::HandlerType*, const bj::value*>& p) const {
      return std::hash<const void*>()(p.first) * 31 + std::hash<const void*>()(p.second);
    }
  };
  std::unordered_set<std::pair<const plugin::HandlerType*, const bj::value*>, PairHash> accepted_;
  std::vector<std::pair<std::string, std::string>> found_;
};

}  // namespace

void validate_account_against_plugins(const AccountSpec& account, const std::vector<HandlerSpec>& handlers,
                                      const plugin::PluginRegistry& registry,
                                      std::vector<ConfigError>& errors) {
  PluginChecks(handlers, registry, nullptr).account(account, errors);
}

void validate_against_plugins(const Config& config, const plugin::PluginRegistry& registry,
                              std::vector<ConfigError>& errors) {
  PluginChecks checks(config.handlers, registry, &errors);
  for (const auto& account : config.accounts) checks.account(account, errors);
}

}  // namespace vumi::config
