// `vumi-dispatcher plugins -c FILE [--json]`: what each plugin on the config's plugin_path offers.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/schema_table.hpp"
#include "plugin/plugin_registry.hpp"

namespace vumi::cli {

namespace bj = boost::json;

namespace {

std::string_view threading_name(vumi_threading t) {
  return t == VUMI_THREADING_REENTRANT ? "reentrant" : "serial";
}

std::string abi_text(const plugin::LoadedPlugin& p) {
  return std::to_string(p.abi_major()) + "." + std::to_string(p.abi_minor());
}

void print_text(const plugin::PluginRegistry& registry) {
  if (registry.plugins().empty()) std::cout << "no plugins loaded\n";
  for (const auto& entry : registry.plugins()) {
    const auto& p = *entry.plugin;
    std::cout << "plugin " << p.name() << ' ' << p.version() << '\n'
              << "  file:      " << p.file().string() << '\n'
              << "  ABI:       " << abi_text(p) << '\n'
              << "  build tag: " << p.build_tag() << '\n'
              << "  handler types: " << entry.types.size() << '\n';
    for (const auto& type : entry.types) {
      std::cout << '\n'
                << "  " << type->name << " - " << type->description << '\n'
                << "    threading: " << threading_name(type->threading) << '\n'
                << "    output:    " << type->output_description << '\n'
                << "    options:\n"
                << format_schema_table(type->options_schema, "      ") << "    step config:\n"
                << format_schema_table(type->step_schema, "      ");
    }
    std::cout << '\n';
  }
  if (!registry.refusals().empty()) {
    std::cout << "refused plugins: " << registry.refusals().size() << '\n';
    for (const auto& r : registry.refusals()) std::cout << "  " << r.text() << '\n';
  }
}

void print_json(const plugin::PluginRegistry& registry) {
  bj::array plugins;
  for (const auto& entry : registry.plugins()) {
    const auto& p = *entry.plugin;
    bj::array types;
    for (const auto& type : entry.types) {
      types.push_back(bj::object{{"name", type->name},
                                 {"description", type->description},
                                 {"threading", threading_name(type->threading)},
                                 {"output", type->output_description},
                                 {"options_schema", type->options_schema},
                                 {"step_schema", type->step_schema}});
    }
    plugins.push_back(bj::object{{"file", p.file().string()},
                                 {"name", p.name()},
                                 {"version", p.version()},
                                 {"abi", abi_text(p)},
                                 {"build_tag", p.build_tag()},
                                 {"handler_types", std::move(types)}});
  }
  bj::array refusals;
  for (const auto& r : registry.refusals())
    refusals.push_back(bj::object{{"file", r.file.string()}, {"reason", r.reason}});
  std::cout << bj::serialize(bj::object{{"plugins", std::move(plugins)}, {"refusals", std::move(refusals)}})
            << '\n';
}

}  // namespace

int plugins_command(const ConfigArgs& args, bool json) {
  const std::string source = config_source_name(args);
  try {
    config::LoadResult loaded = load_command_config(args);
    if (!loaded.config) {
      print_config_errors(std::cerr, loaded.errors, source);
      return 1;
    }
    if (!loaded.errors.empty()) {
      std::cerr << "note: " << source << " has " << loaded.errors.size()
                << " error(s); `vumi-dispatcher check` shows them\n";
    }
    plugin::PluginRegistry registry;
    registry.allow_insecure_paths(loaded.config->plugin_path_insecure_ok);
    registry.load_path(loaded.config->plugin_path);
    if (json) {
      print_json(registry);
    } else {
      print_text(registry);
    }
    return registry.refusals().empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "plugins " << source << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace vumi::cli
