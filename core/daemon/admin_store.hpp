// What the admin API keeps: accounts created through it (with every version), and account
// tokens (hashed). With the sqlite backend in <state_dir>/admin.db, apart from the data path's
// database so that API writes never wait for a dispatch batch's transaction, and its schema evolves
// on its own; with postgresql in the state database, on a connection of its own (pg_admin_store.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "common/state_backends.hpp"

namespace vumi::daemon {

struct StoredAccount {
  std::string key;
  std::string document;  // the account's JSON (conversations, tags, handlers, routes)
  std::uint64_t version = 0;
};

struct AccountVersion {
  std::uint64_t version = 0;
  std::string time;      // UTC, ISO 8601
  std::string token;     // name of the token that made the change
  std::string document;  // the account after the change; "null" once deleted
  std::string diff;      // JSON array of {"op", "path", "value"?} from the previous version
};

struct StoredToken {
  std::string name;
  std::string account;  // empty: an operator token
  std::string hash;     // hex SHA-256 of the secret
  std::string created;  // UTC, ISO 8601
};

class AdminStore {
 public:
  // Opens (creating) the admin store of the state's backend (sqlite: <dir>/admin.db); throws
  // store::StoreError naming where and why.
  static std::unique_ptr<AdminStore> open(const StateConfig& state);
  // Whether the state may hold admin data already (sqlite: admin.db exists; postgresql: true).
  static bool exists(const StateConfig& state);
  virtual ~AdminStore() = default;

  // Current (not deleted) accounts.
  virtual std::vector<StoredAccount> accounts() = 0;
  // Writes a new version of an account (document "null": deleted) with its history entry, in one
  // transaction; fails (refused) saying why when the stored version is no longer expected_version.
  // Throws store::StoreError when the database fails (control plane).
  virtual Expected<void> put_account(const std::string& key, const std::string& document,
                                     std::uint64_t expected_version, const AccountVersion& entry) = 0;
  // Versions of one account, newest first, at most limit.
  virtual std::vector<AccountVersion> history(const std::string& key, std::size_t limit) = 0;
  virtual std::optional<AccountVersion> version(const std::string& key, std::uint64_t version) = 0;

  virtual std::vector<StoredToken> tokens() = 0;
  virtual std::optional<StoredToken> token_by_hash(const std::string& hash) = 0;
  // Fails (refused) saying why when the name is taken.
  virtual Expected<void> add_token(const StoredToken& token) = 0;
  // False when there was no such token.
  virtual bool remove_token(const std::string& name) = 0;
};

// "2026-12-02T05:22:43Z".
std::string utc_now_iso8601();

}  // namespace vumi::daemon
