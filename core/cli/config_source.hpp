// The config a command works on: the file named by -c, or the default compiled into the binary,
// with --plugin-path replacing the config's plugin_path.
#pragma once

#include <iosfwd>
#include <memory>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "store/store_factory.hpp"

namespace vumi::cli {

// config/dispatcher.json as it was when the binary was built.
std::string_view embedded_config_text();

// Loads and structurally checks the config args name; errors are collected, never thrown.
config::LoadResult load_command_config(const ConfigArgs& args);

// Writes each error on its own line, then "N error(s) in <source>".
void print_config_errors(std::ostream& out, const std::vector<config::ConfigError>& errors,
                         std::string_view source);

// Whether any error is in the state settings ("state", "state.*", "state_dir"): then a command that
// reads the state cannot know where it is, whatever else is right.
bool has_state_error(const std::vector<config::ConfigError>& errors);

// Opens the store the config's state settings name (store::open_state_store); throws StoreError.
std::unique_ptr<store::StateStore> open_config_state(const config::Config& config, store::Access access);

// What the config args name in messages: the file, or "<embedded>".
std::string config_source_name(const ConfigArgs& args);

}  // namespace vumi::cli
