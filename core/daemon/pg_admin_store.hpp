// The admin API's store in PostgreSQL: the same tables as admin.db (api_accounts,
// api_account_versions, api_tokens) in the state database, on a connection of its own so that API
// writes never wait for a dispatch batch's transaction.
#pragma once

#include <memory>
#include <string>

#include "daemon/admin_store.hpp"

namespace vumi::daemon {

// Connects to url and creates the admin tables when missing; throws store::StoreError.
std::unique_ptr<AdminStore> open_pg_admin_store(const std::string& url);

}  // namespace vumi::daemon
