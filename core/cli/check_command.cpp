// `vumi-dispatcher check -c FILE`: every config and plugin problem, each named by its JSON path.
#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "common/json.hpp"
#include "dispatch/runtime.hpp"
#include "transport/curve_keys.hpp"

namespace vumi::cli {

namespace {

// The secret key file must be readable, private and hold a key (the daemon would refuse to start).
void check_security(const config::Config& cfg, std::vector<config::ConfigError>& errors) {
  if (!cfg.security.curve()) return;
  try {
    transport::read_secret_key_file(cfg.security.secret_key_file);
  } catch (const std::exception& e) {
    errors.push_back({"security.secret_key_file", e.what()});
  }
}

// Where each plugin_path entry points, and why: relative paths depend on the working directory.
std::string plugin_path_text(const config::Config& cfg) {
  std::error_code ec;
  const auto binary_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  std::string text;
  for (const auto& path : cfg.plugin_path) {
    text += "\n    " + path.string();
    if (!ec && path.string().starts_with(binary_dir.string() + "/")) {
      text += " (\"$ORIGIN\": beside this binary)";
    } else if (path.is_relative()) {
      text += " (relative: resolved from the working directory " +
              std::filesystem::current_path(ec).string() + "; prefer an absolute path or \"$ORIGIN/...\")";
    }
  }
  if (cfg.plugin_path_insecure_ok) text += "\n    plugin_path_insecure_ok: files others can write are loaded";
  return text;
}

void print_summary(const dispatch::Runtime& runtime, std::string_view source) {
  const config::Config& cfg = runtime.config();
  const plugin::PluginRegistry& registry = runtime.plugins();
  const dispatch::RouteIndex& index = runtime.routes();
  std::string names;
  for (const auto& entry : registry.plugins()) {
    if (!names.empty()) names += ", ";
    names += entry.plugin->name();
  }
  std::cout << "config OK: " << source << '\n'
            << "  plugins: " << registry.plugins().size() << " (" << names << ")\n"
            << "  handlers: " << cfg.handlers.size() << '\n'
            << "  accounts: " << index.account_count() << ", routes: " << index.route_count()
            << ", tags: " << index.tag_count() << '\n'
            << "  plugin_path:" << plugin_path_text(cfg) << '\n'
            << "  security: "
            << (cfg.security.curve()
                    ? "CURVE on, " + std::to_string(cfg.security.publishers.size()) + " publisher key(s), " +
                          std::to_string(cfg.security.subscribers.size()) + " subscriber key(s)"
                    : std::string("CURVE off: unauthenticated, ") +
                          (cfg.security.allow_insecure ? "binds beyond loopback allowed (allow_insecure)"
                                                       : "loopback binds only"))
            << '\n';
}

}  // namespace

int check_command(const ConfigArgs& args) {
  const std::string source = config_source_name(args);
  try {
    config::LoadResult loaded = load_command_config(args);
    std::vector<config::ConfigError> errors = std::move(loaded.errors);
    if (!loaded.config) {
      print_config_errors(std::cerr, errors, source);
      return 1;
    }
    check_security(*loaded.config, errors);
    // The same validation as `run` and the admin API: building the runtime (plugins loaded, the
    // config checked against their schemas, every handler instance created and destroyed again).
    auto built = dispatch::Runtime::build(std::move(*loaded.config));
    if (!built) errors.insert(errors.end(), built.error().begin(), built.error().end());
    if (!errors.empty()) {
      print_config_errors(std::cerr, errors, source);
      return 1;
    }
    const std::shared_ptr<dispatch::Runtime> runtime = std::move(built).value();
    print_summary(*runtime, source);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "check " << source << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace vumi::cli
