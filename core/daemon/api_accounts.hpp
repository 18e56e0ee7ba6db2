// Puts the accounts stored through the admin API into a runtime built from the config file.
#pragma once

#include <string>
#include <vector>

#include "daemon/admin_store.hpp"
#include "dispatch/runtime.hpp"

namespace vumi::daemon {

// Builds and swaps in each stored account (an account the file also defines is skipped: the file
// wins). An account that no longer validates (a plugin gone, a tag now owned by the file) is left
// out with a message in problems and stays stored, to be fixed through the API.
void apply_api_accounts(dispatch::Runtime& runtime, const std::vector<StoredAccount>& accounts,
                        std::vector<std::string>& problems);

// Builds one stored account against runtime; null with errors when it does not validate there.
std::shared_ptr<dispatch::AccountRoutes> build_api_account(const dispatch::Runtime& runtime,
                                                           const StoredAccount& account,
                                                           std::vector<config::ConfigError>& errors);

// The account owning one of spec's tags other than spec's own account, with the tag; empty if none.
std::pair<std::string, std::string> tag_conflict(const dispatch::Runtime& runtime,
                                                 const config::AccountSpec& spec);

}  // namespace vumi::daemon
