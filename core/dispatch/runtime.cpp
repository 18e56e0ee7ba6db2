#include "dispatch/runtime.hpp"

#include <boost/json/serialize.hpp>

#include "common/json.hpp"

namespace vumi::dispatch {

std::unique_ptr<plugin::HandlerInstance> create_handler_instance(const config::HandlerSpec& spec,
                                                                 const plugin::PluginRegistry& registry,
                                                                 std::vector<config::ConfigError>& errors) {
  std::string error;
  auto instance = plugin::HandlerInstance::create(registry.find(spec.type), spec.name,
                                                  boost::json::serialize(spec.options), error);
  if (!instance)
    errors.push_back({json::child_path(spec.path, "options"),
                      "handler \"" + spec.name + "\" (" + spec.type + ") refused its options: " + error});
  return instance;
}

std::shared_ptr<Runtime> Runtime::build(config::Config config, std::vector<config::ConfigError>& errors) {
  std::size_t errors_before = errors.size();
  // Not make_shared: the constructor is private.
  std::shared_ptr<Runtime> rt(new Runtime());
  rt->config_ = std::move(config);
  const config::Config& cfg = rt->config_;

  rt->registry_.allow_insecure_paths(cfg.plugin_path_insecure_ok);
  rt->registry_.load_path(cfg.plugin_path);
  for (const plugin::PluginRefusal& refusal : rt->registry_.refusals())
    errors.push_back({"plugin_path", "plugin refused: " + refusal.text()});
  config::validate_against_plugins(cfg, rt->registry_, errors);
  if (errors.size() != errors_before) return nullptr;

  for (const config::HandlerSpec& spec : cfg.handlers) {
    if (auto instance = create_handler_instance(spec, rt->registry_, errors))
      rt->instances_.emplace(spec.name, std::move(instance));
  }
  std::vector<std::shared_ptr<const AccountRoutes>> accounts;
  accounts.reserve(cfg.accounts.size());
  for (config::AccountSpec& spec : rt->config_.accounts) {
    StringMap<std::unique_ptr<plugin::HandlerInstance>> own;
    for (const config::HandlerSpec& handler : spec.handlers) {
      if (auto instance = create_handler_instance(handler, rt->registry_, errors))
        own.emplace(handler.name, std::move(instance));
    }
    accounts.push_back(AccountRoutes::index(std::move(spec), std::move(own), rt->instances_));
  }
  rt->config_.accounts = {};  // the moved-from specs and their storage (clear() would keep it)
  if (errors.size() != errors_before) return nullptr;

  rt->routes_ = std::make_unique<RouteIndex>(std::move(accounts));
  rt->routes_->set_tag_pools(rt->config_.tag_pools);
  event::DecodeLimits limits;
  limits.max_body_bytes = cfg.limits.max_body_bytes;
  limits.max_depth = cfg.limits.max_json_depth;
  limits.max_string_bytes = cfg.limits.max_string_bytes;
  rt->decoder_ = std::make_unique<event::EnvelopeDecoder>(limits, rt->routes_.get());
  return rt;
}

std::shared_ptr<AccountRoutes> Runtime::build_account(config::AccountSpec account,
                                                      std::vector<config::ConfigError>& errors) const {
  std::size_t errors_before = errors.size();
  config::validate_account_against_plugins(account, config_.handlers, registry_, errors);
  if (errors.size() != errors_before) return nullptr;
  StringMap<std::unique_ptr<plugin::HandlerInstance>> own;
  for (const config::HandlerSpec& handler : account.handlers) {
    if (auto instance = create_handler_instance(handler, registry_, errors))
      own.emplace(handler.name, std::move(instance));
  }
  if (errors.size() != errors_before) return nullptr;
  return AccountRoutes::index(std::move(account), std::move(own), instances_);
}

}  // namespace vumi::dispatch
