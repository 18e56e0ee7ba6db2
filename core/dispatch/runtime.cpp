#include "dispatch/runtime.hpp"

#include <boost/json/serialize.hpp>

#include "common/json.hpp"

namespace vumi::dispatch {

std::shared_ptr<const Runtime> Runtime::build(config::Config config,
                                              std::vector<config::ConfigError>& errors) {
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
    std::string error;
    auto instance = plugin::HandlerInstance::create(rt->registry_.find(spec.type), spec.name,
                                                    boost::json::serialize(spec.options), error);
    if (!instance) {
      errors.push_back({json::child_path(spec.path, "options"),
                        "handler \"" + spec.name + "\" (" + spec.type + ") refused its options: " + error});
      continue;
    }
    rt->instances_.emplace(spec.name, std::move(instance));
  }
  if (errors.size() != errors_before) return nullptr;

  rt->routes_ = std::make_unique<RouteIndex>(cfg, rt->instances_);
  event::DecodeLimits limits;
  limits.max_body_bytes = cfg.limits.max_body_bytes;
  limits.max_depth = cfg.limits.max_json_depth;
  limits.max_string_bytes = cfg.limits.max_string_bytes;
  rt->decoder_ = std::make_unique<event::EnvelopeDecoder>(limits, rt->routes_.get());
  return rt;
}

}  // namespace vumi::dispatch
