#include "cli/config_source.hpp"

#include <algorithm>
#include <ostream>

namespace vumi::cli {

std::string config_source_name(const ConfigArgs& args) {
  return args.config_file ? args.config_file->string() : std::string("<embedded>");
}

config::LoadResult load_command_config(const ConfigArgs& args) {
  config::LoadResult result = args.config_file ? config::load_config_file(*args.config_file)
                                               : config::parse_config(embedded_config_text(), "<embedded>");
  if (result.config && !args.plugin_path.empty()) result.config->plugin_path = args.plugin_path;
  return result;
}

void print_config_errors(std::ostream& out, const std::vector<config::ConfigError>& errors,
                         std::string_view source) {
  for (const auto& e : errors) out << e.text() << '\n';
  out << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in " << source << '\n';
}

bool has_state_error(const std::vector<config::ConfigError>& errors) {
  return std::any_of(errors.begin(), errors.end(), [](const config::ConfigError& error) {
    return error.path == "state" || error.path == "state_dir" || error.path.starts_with("state.");
  });
}

std::unique_ptr<store::StateStore> open_config_state(const config::Config& config, store::Access access) {
  return store::open_state_store(config.state, access);
}

}  // namespace vumi::cli
