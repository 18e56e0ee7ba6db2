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
  // handler instance; every error found otherwise (control plane). This is the one validation
  // `check`, `run` and the admin API share.
  static config::Validated<std::shared_ptr<Runtime>> build(config::Config config);

  // Validates one account against this runtime's plugins and global handlers, creates its own
  // handler instances and indexes its routes; every error found when anything is wrong.
  // Does not touch the running index: swap the result in with routes().replace_account().
  config::Validated<std::shared_ptr<AccountRoutes>> build_account(config::AccountSpec account) const;

  // The config; its accounts live in routes() (each account owns its spec, so it can be swapped).
  const config::Config& config() const { return config_; }
  const plugin::PluginRegistry& plugins() const { return registry_; }
  const RouteIndex& routes() const { return *routes_; }
  // For swapping one account in, on the dispatch loop between two events.
  RouteIndex& routes() { return *routes_; }
  const event::EnvelopeDecoder& decoder() const { return *decoder_; }

 private:
  Runtime() = default;
  config::Config config_;
  plugin::PluginRegistry registry_;
  StringMap<std::unique_ptr<plugin::HandlerInstance>> instances_;
  std::unique_ptr<RouteIndex> routes_;
  std::unique_ptr<event::EnvelopeDecoder> decoder_;
};

// Creates the handler instance spec names; on refusal the error is "<path>.options: handler "<name>"
// (<type>) refused its options: <why>".
Expected<std::unique_ptr<plugin::HandlerInstance>, config::ConfigError> create_handler_instance(
    const config::HandlerSpec& spec, const plugin::PluginRegistry& registry);

}  // namespace vumi::dispatch
