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
  // handler instance. On any error returns null with all errors appended (control plane). This is
  // the one validation `check`, `run` and the admin API share.
  static std::shared_ptr<Runtime> build(config::Config config, std::vector<config::ConfigError>& errors);

  // Validates one account against this runtime's plugins and global handlers, creates its own
  // handler instances and indexes its routes; null with errors appended when anything is wrong.
  // Does not touch the running index: swap the result in with routes().replace_account().
  std::shared_ptr<AccountRoutes> build_account(config::AccountSpec account,
                                               std::vector<config::ConfigError>& errors) const;

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

// Creates the handler instance spec names; on refusal appends "<path>.options: handler "<name>"
// (<type>) refused its options: <why>" and returns null.
std::unique_ptr<plugin::HandlerInstance> create_handler_instance(const config::HandlerSpec& spec,
                                                                 const plugin::PluginRegistry& registry,
                                                                 std::vector<config::ConfigError>& errors);

}  // namespace vumi::dispatch
