// `vumi-dispatcher tokens create|list|revoke`: account tokens of the admin API, in
// <state_dir>/admin.db (a running daemon sees changes at the next request).
#include <iostream>

#include "admin/tokens.hpp"
#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "daemon/admin_store.hpp"

namespace vumi::cli {

int tokens_command(const TokensArgs& args) {
  const std::string source = config_source_name(args.config);
  config::LoadResult loaded = load_command_config(args.config);
  if (!loaded.ok()) {
    print_config_errors(std::cerr, loaded.errors, source);
    return 1;
  }
  try {
    auto store = daemon::AdminStore::open(loaded.config->state);
    if (args.action == "list") {
      for (const auto& t : store->tokens())
        std::cout << t.name << "\taccount=" << t.account << "\tcreated=" << t.created << '\n';
      return 0;
    }
    if (args.action == "create") {
      auto secret = admin::create_account_token(*store, args.name, args.account);
      if (!secret) {
        std::cerr << "tokens create: " << secret.error().message << '\n';
        return 1;
      }
      std::cout << *secret << '\n';
      std::cerr << "token \"" << args.name << "\" for account \"" << args.account
                << "\" created; the secret above is shown only now\n";
      return 0;
    }
    if (args.action == "revoke") {
      if (!store->remove_token(args.name)) {
        std::cerr << "tokens revoke: no token \"" << args.name << "\"\n";
        return 1;
      }
      std::cerr << "token \"" << args.name << "\" revoked\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "tokens: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "tokens: unknown action \"" << args.action << "\" (create, list, revoke)\n";
  return 2;
}

}  // namespace vumi::cli
