#include "dispatch/runtime.hpp"

#include <boost/json/serialize.hpp>

#include "common/json.hpp"

namespace vumi::dispatch {

Expected<std::unique_ptr<plugin::HandlerInstance>, config::ConfigError> create_handler_instance(
    const config::HandlerSpec& spec, const plugin::PluginRegistry& registry) {
  auto instance = plugin::HandlerInstance::create(registry.find(spec.type), spec.name,
                                                  boost::json::serialize(spec.options));
  if (instance) return std::move(instance).value();
  return Unexpected(config::ConfigError{
      json::child_path(spec.path, "options"),
      "handler \"" + spec.name + "\" (" + spec.type + ") refused its options: " + instance.error().message});
}

namespace {

// Creates the handler instances specs name into out; refusals are appended to errors.
void create_handler_instances(const std::vector<config::HandlerSpec>& specs,
                              const plugin::PluginRegistry& registry,
                              StringMap<std::unique_ptr<plugin::HandlerInstance>>& out,
                              std::vector<config::ConfigError>& errors) {
  for (const config::HandlerSpec& spec : specs) {
    auto instance = create_handler_instance(spec, registry);
    if (instance)
      out.emplace(spec.name, std::move(instance).value());
    else
      errors.push_back(std::move(instance).error());
  }
}

}  // namespace

config::Validated<std::shared_ptr<Runtime>> Runtime::build(config::Config config) {
  std::vector<config::ConfigError> errors;
  // Not make_shared: the constructor is private.
  std::shared_ptr<Runtime> rt(new Runtime());
  rt->config_ = std::move(config);
  const config::Config& cfg = rt->config_;

  rt->registry_.allow_insecure_paths(cfg.plugin_path_insecure_ok);
  rt->registry_.load_path(cfg.plugin_path);
  for (const plugin::PluginRefusal& refusal : rt->registry_.refusals())
    errors.push_back({"plugin_path", "plugin refused: " + refusal.text()});
  config::validate_against_plugins(cfg, rt->registry_, errors);
  if (!errors.empty()) return Unexpected(std::move(errors));

  create_handler_instances(cfg.handlers, rt->registry_, rt->instances_, errors);
  std::vector<std::shared_ptr<const AccountRoutes>> accounts;
  accounts.reserve(cfg.accounts.size());
  for (config::AccountSpec& spec : rt->config_.accounts) {
    StringMap<std::unique_ptr<plugin::HandlerInstance>> own;
    create_handler_instances(spec.handlers, rt->registry_, own, errors);
    accounts.push_back(AccountRoutes::index(std::move(spec), std::move(own), rt->instances_));
  }
  // The moved-from specs and their storage: clear(), and assigning {} (an empty initializer
  // list), would both keep the capacity (21 MB for 100,000 accounts).
  std::vector<config::AccountSpec>().swap(rt->config_.accounts);
  if (!errors.empty()) return Unexpected(std::move(errors));

  rt->routes_ = std::make_unique<RouteIndex>(std::move(accounts));
  rt->routes_->set_tag_pools(rt->config_.tag_pools);
  event::DecodeLimits limits;
  limits.max_body_bytes = cfg.limits.max_body_bytes;
  limits.max_depth = cfg.limits.max_json_depth;
  limits.max_string_bytes = cfg.limits.max_string_bytes;
  rt->decoder_ = std::make_unique<event::EnvelopeDecoder>(limits, rt->routes_.get());
  return rt;
}

config::Validated<std::shared_ptr<AccountRoutes>> Runtime::build_account(config::AccountSpec account) const {
  std::vector<config::ConfigError> errors;
  config::validate_account_against_plugins(account, config_.handlers, registry_, errors);
  if (!errors.empty()) return Unexpected(std::move(errors));
  StringMap<std::unique_ptr<plugin::HandlerInstance>> own;
  create_handler_instances(account.handlers, registry_, own, errors);
  if (!errors.empty()) return Unexpected(std::move(errors));
  return AccountRoutes::index(std::move(account), std::move(own), instances_);
}

}  // namespace vumi::dispatch
