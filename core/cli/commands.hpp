// One function per subcommand; each returns the exit code and never throws.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vumi::cli {

struct ConfigArgs {
  std::optional<std::filesystem::path> config_file;  // -c FILE; nullopt: the embedded default
  std::vector<std::filesystem::path> plugin_path;    // --plugin-path DIR (repeatable) overrides the config's
};

int check_command(const ConfigArgs& args);
int plugins_command(const ConfigArgs& args, bool json);

struct StateArgs {
  ConfigArgs config;
  std::string account;  // empty: all
  bool json = false;
};
int contacts_command(const StateArgs& args);
int inbox_command(const StateArgs& args);
int dead_letters_command(const StateArgs& args);

}  // namespace vumi::cli
