// Loads plugin shared objects through the ABI entry symbol and keeps the handler types they offer.
#pragma once

#include <vumi/plugin.h>

#include <boost/json/value.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vumi::plugin {

class LoadedPlugin;

// One handler type, as declared by its plugin (descriptor copied and zero-filled to host size).
struct HandlerType {
  std::string name;
  std::string description;
  std::string output_description;
  boost::json::value options_schema;  // parsed; {"type":"object","additionalProperties":false} when NULL
  boost::json::value step_schema;
  vumi_threading threading = VUMI_THREADING_SERIAL;
  vumi_handler_type abi{};                     // host-sized copy of the plugin's descriptor
  std::shared_ptr<const LoadedPlugin> plugin;  // keeps the library loaded
};

// A loaded, accepted plugin. Unloads its library (after calling shutdown) when the last
// HandlerType or HandlerInstance referring to it is gone.
class LoadedPlugin {
 public:
  virtual ~LoadedPlugin() = default;
  virtual const std::filesystem::path& file() const = 0;
  virtual std::string_view name() const = 0;
  virtual std::string_view version() const = 0;
  virtual std::string_view build_tag() const = 0;
  virtual unsigned abi_major() const = 0;
  virtual unsigned abi_minor() const = 0;
};

// A plugin file the loader refused, and exactly why.
struct PluginRefusal {
  std::filesystem::path file;
  std::string reason;        // e.g. "plugin ABI 2.0, host supports 1.x"
  std::string text() const;  // "<file>: <reason>"
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(PluginRegistry&&) noexcept;
  PluginRegistry& operator=(PluginRegistry&&) noexcept;

  // Loads every *.so in each folder (sorted by name) or the named file. Refusals are collected,
  // never thrown; a path that does not exist is a refusal too.
  void load_path(const std::vector<std::filesystem::path>& plugin_path);
  // Loads one file; returns false (and records a refusal) when it is refused.
  bool load_file(const std::filesystem::path& file);
  // Loads files and folders that others could write to (plugin_path_insecure_ok); by default they
  // are refused before any of their code runs (plugin_file_check.hpp).
  void allow_insecure_paths(bool allow);

  // The handler type of that name, or null.
  std::shared_ptr<const HandlerType> find(std::string_view type_name) const;
  // All handler type names, sorted.
  std::vector<std::string> type_names() const;
  // Accepted plugins, in load order, with their handler types.
  struct Entry {
    std::shared_ptr<const LoadedPlugin> plugin;
    std::vector<std::shared_ptr<const HandlerType>> types;
  };
  const std::vector<Entry>& plugins() const;
  const std::vector<PluginRefusal>& refusals() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vumi::plugin
