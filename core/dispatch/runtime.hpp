// A config made ready to run: plugins loaded, handler instances created, routes indexed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/string_hash.hpp"
#include "config/config.hpp"
#include "dispatch/route_index.hpp"
#include "event/envelope_decoder.hpp"
#include "plugin/handler_instance.hpp"
#include "plugin/plugin_registry.hpp"

namespace vumi::dispatch {

class Runtime {
 public:
  // Loads plugins from config.plugin_path, validates the config against them and creates every
  // handler instance. On any error returns null with all errors appended (control plane).
  static std::shared_ptr<const Runtime> build(config::Config config,
                                              std::vector<config::ConfigError>& errors);

  const config::Config& config() const { return config_; }
  const plugin::PluginRegistry& plugins() const { return registry_; }
  const RouteIndex& routes() const { return *routes_; }
  const event::EnvelopeDecoder& decoder() const { return *decoder_; }

 private:
  Runtime() = default;
  config::Config config_;
  plugin::PluginRegistry registry_;
  StringMap<std::unique_ptr<plugin::HandlerInstance>> instances_;
  std::unique_ptr<RouteIndex> routes_;
  std::unique_ptr<event::EnvelopeDecoder> decoder_;
};

}  // namespace vumi::dispatch
