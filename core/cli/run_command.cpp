// `vumi-dispatcher run`: sets up logging and hands the daemon a way to (re)load the config.
#include <spdlog/spdlog.h>

#include <iostream>

#include "admin/admin_server.hpp"
#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "common/logging.hpp"
#include "daemon/admin_store.hpp"
#include "daemon/api_accounts.hpp"
#include "daemon/daemon.hpp"
#include "dispatch/runtime.hpp"

namespace vumi::cli {

namespace {

// Reads the config the args name (again on every SIGHUP), builds its runtime and adds the accounts
// stored through the admin API.
std::shared_ptr<dispatch::Runtime> load_runtime(const ConfigArgs& args, std::vector<std::string>& errors) {
  const std::string source = config_source_name(args);
  config::LoadResult loaded = load_command_config(args);
  for (const auto& e : loaded.errors) errors.push_back(source + ": " + e.text());
  if (!loaded.ok()) return nullptr;
  auto built = dispatch::Runtime::build(std::move(*loaded.config));
  if (!built) {
    for (const auto& e : built.error()) errors.push_back(source + ": " + e.text());
    return nullptr;
  }
  std::shared_ptr<dispatch::Runtime> runtime = std::move(built).value();
  if (daemon::AdminStore::exists(runtime->config().state)) {
    std::vector<std::string> problems;
    daemon::apply_api_accounts(*runtime, daemon::AdminStore::open(runtime->config().state)->accounts(),
                               problems);
    for (const auto& p : problems) spdlog::error("admin API accounts: {}", p);
  }
  return runtime;
}

}  // namespace

int run_command(const RunArgs& args) {
  const auto format = logging::parse_format(args.log_format);
  if (!format || !logging::is_level_name(args.log_level)) {
    std::cerr << "run: --log-format must be text or json and --log-level debug, info, warn or error\n";
    return 2;
  }
  logging::setup(*format, args.log_level);
  transport::DaemonOptions options;
  options.status_interval_s = args.status_interval_s;
  options.load = [config = args.config](std::vector<std::string>& errors) {
    return load_runtime(config, errors);
  };
  options.extension = admin::make_admin_extension();
  transport::Daemon daemon(std::move(options));
  return daemon.run();
}

}  // namespace vumi::cli
