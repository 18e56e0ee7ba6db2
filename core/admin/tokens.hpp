// Bearer tokens: the operator token read from admin.token_file, and account tokens kept hashed
// (SHA-256, OpenSSL libcrypto) in the admin database.
#pragma once

#include <filesystem>
#include <string>

#include "common/expected.hpp"
#include "daemon/admin_store.hpp"

namespace vumi::admin {

// Hex SHA-256 of text.
std::string sha256_hex(std::string_view text);

// A new secret: "vdt_" and 64 hex digits from the system's random source.
std::string new_token_secret();

// Reads the operator token (first line, trimmed). Throws std::runtime_error naming the file when it
// cannot be read, is empty, or is readable by group or others (mode must be 0600 or stricter).
std::string read_operator_token(const std::filesystem::path& file);

// Who a request comes from.
struct Caller {
  std::string token_name;  // "operator" for the operator token
  std::string account;     // empty for the operator
  bool is_operator() const { return account.empty(); }
  bool may_access(std::string_view account_key) const { return is_operator() || account == account_key; }
};

// Creates an account token in store; returns the secret (shown once), or why not: ErrorCode::invalid
// for a bad name or account, refused when the store refuses it (e.g. the name exists).
Expected<std::string> create_account_token(daemon::AdminStore& store, const std::string& name,
                                           const std::string& account);

}  // namespace vumi::admin
