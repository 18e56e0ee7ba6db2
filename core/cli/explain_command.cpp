// `vumi-dispatcher explain -c FILE --event FILE`: what the event would do, without doing it (the
// admin API's dry run): per matching route and step the rendered config, output, result, error,
// and the effects (published, emitted, contacts, inbox, dead letters) that were held back.
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "daemon/admin_store.hpp"
#include "daemon/api_accounts.hpp"
#include "dispatch/dry_run.hpp"

namespace vumi::cli {

int explain_command(const ExplainArgs& args) {
  const std::string source = config_source_name(args.config);
  config::LoadResult loaded = load_command_config(args.config);
  std::vector<config::ConfigError> errors = std::move(loaded.errors);
  if (!loaded.config) {
    print_config_errors(std::cerr, errors, source);
    return 1;
  }
  auto built = dispatch::Runtime::build(std::move(*loaded.config));
  if (!built) errors.insert(errors.end(), built.error().begin(), built.error().end());
  if (!errors.empty()) {
    print_config_errors(std::cerr, errors, source);
    return 1;
  }
  const std::shared_ptr<dispatch::Runtime> runtime = std::move(built).value();
  std::unique_ptr<store::StateStore> reads;
  try {
    if (daemon::AdminStore::exists(runtime->config().state)) {
      std::vector<std::string> problems;
      daemon::apply_api_accounts(*runtime, daemon::AdminStore::open(runtime->config().state)->accounts(),
                                 problems);
      for (const auto& p : problems) std::cerr << "explain: admin API accounts: " << p << '\n';
    }
    if (store::state_store_exists(runtime->config().state))
      reads = open_config_state(runtime->config(), store::Access::read_only);
  } catch (const std::exception& e) {
    std::cerr << "explain: " << store::state_location(runtime->config().state) << ": " << e.what()
              << " (contacts are not looked up)\n";
  }
  std::ifstream in(args.event_file, std::ios::binary);
  if (!in) {
    std::cerr << "explain: cannot read event file \"" << args.event_file.string() << "\"\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto report = dispatch::dry_run(*runtime, text.str(), reads.get());
  if (!report) {
    std::cerr << "explain: " << args.event_file.string() << ": " << report.error().message << '\n';
    return 1;
  }
  std::cout << boost::json::serialize(*report) << '\n';
  return 0;
}

}  // namespace vumi::cli
