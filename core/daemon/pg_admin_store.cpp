#include "daemon/pg_admin_store.hpp"

#include <mutex>

#include "store/pg_connection.hpp"
#include "store/state_store.hpp"

namespace vumi::daemon {

namespace {

using store::PgParams;
using store::PgResult;

// Created under an advisory lock: two dispatchers starting at once would otherwise race on the
// catalog (CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator).
constexpr const char* kSchema = R"sql(
SELECT pg_advisory_xact_lock(7316852191);
CREATE TABLE IF NOT EXISTS api_accounts (
  key text PRIMARY KEY,
  document text NOT NULL,
  version bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS api_account_versions (
  key text NOT NULL,
  version bigint NOT NULL,
  time text NOT NULL,
  token text NOT NULL,
  document text NOT NULL,
  diff text NOT NULL,
  PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS api_tokens (
  name text PRIMARY KEY,
  account text NOT NULL,
  hash text NOT NULL UNIQUE,
  created text NOT NULL
);
)sql";

constexpr const char* kUniqueViolation = "23505";

class PgAdminStore final : public AdminStore {
 public:
  explicit PgAdminStore(const std::string& url) : db_(url) {
    // One simple query with several statements runs as one transaction.
    db_.must_run(std::string("BEGIN;") + kSchema + "COMMIT;", "creating the admin tables");
  }

  std::vector<StoredAccount> accounts() override {
    std::lock_guard lock(mutex_);
    PgResult result =
        run("SELECT key, document, version FROM api_accounts WHERE document <> 'null' ORDER BY key", {},
            "read accounts");
    std::vector<StoredAccount> out;
    out.reserve(static_cast<std::size_t>(result.rows()));
    for (int row = 0; row < result.rows(); ++row)
      out.push_back(
          {result.text(row, 0), result.text(row, 1), static_cast<std::uint64_t>(result.int64(row, 2))});
    return out;
  }

  Expected<void> put_account(const std::string& key, const std::string& document,
                             std::uint64_t expected_version, const AccountVersion& entry) override {
    std::lock_guard lock(mutex_);
    run("BEGIN", {}, "begin an account write");
    try {
      // Serialises writers of this account across dispatchers sharing the database.
      run("SELECT pg_advisory_xact_lock(hashtext($1))", PgParams().text(key), "lock the account");
      PgResult read =
          run("SELECT version FROM api_accounts WHERE key = $1", PgParams().text(key), "read account");
      const std::uint64_t stored = read.rows() > 0 ? static_cast<std::uint64_t>(read.int64(0, 0)) : 0;
      if (stored != expected_version) {
        run("ROLLBACK", {}, "roll back an account write");
        return fail(ErrorCode::refused, "account \"" + key + "\" is at version " + std::to_string(stored) +
                                            ", not " + std::to_string(expected_version));
      }
      const auto version = static_cast<std::int64_t>(entry.version);
      run("INSERT INTO api_accounts (key, document, version) VALUES ($1, $2, $3) "
          "ON CONFLICT (key) DO UPDATE SET document = excluded.document, version = excluded.version",
          PgParams().text(key).text(document).int64(version), "write account");
      run("INSERT INTO api_account_versions (key, version, time, token, document, diff) "
          "VALUES ($1, $2, $3, $4, $5, $6)",
          PgParams()
              .text(key)
              .int64(version)
              .text(entry.time)
              .text(entry.token)
              .text(entry.document)
              .text(entry.diff),
          "write account version");
      run("COMMIT", {}, "commit an account write");
      return {};
    } catch (...) {
      db_.run("ROLLBACK");
      throw;
    }
  }

  std::vector<AccountVersion> history(const std::string& key, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    PgResult result =
        run("SELECT version, time, token, document, diff FROM api_account_versions WHERE key = $1 "
            "ORDER BY version DESC LIMIT $2",
            PgParams().text(key).int64(static_cast<std::int64_t>(limit)), "read account history");
    std::vector<AccountVersion> out;
    out.reserve(static_cast<std::size_t>(result.rows()));
    for (int row = 0; row < result.rows(); ++row) out.push_back(version_row(result, row));
    return out;
  }

  std::optional<AccountVersion> version(const std::string& key, std::uint64_t number) override {
    std::lock_guard lock(mutex_);
    PgResult result =
        run("SELECT version, time, token, document, diff FROM api_account_versions WHERE key = $1 AND "
            "version = $2",
            PgParams().text(key).int64(static_cast<std::int64_t>(number)), "read account version");
    if (result.rows() == 0) return std::nullopt;
    return version_row(result, 0);
  }

  std::vector<StoredToken> tokens() override {
    std::lock_guard lock(mutex_);
    PgResult result =
        run("SELECT name, account, hash, created FROM api_tokens ORDER BY name", {}, "read tokens");
    std::vector<StoredToken> out;
    out.reserve(static_cast<std::size_t>(result.rows()));
    for (int row = 0; row < result.rows(); ++row) out.push_back(token_row(result, row));
    return out;
  }

  std::optional<StoredToken> token_by_hash(const std::string& hash) override {
    std::lock_guard lock(mutex_);
    PgResult result = run("SELECT name, account, hash, created FROM api_tokens WHERE hash = $1",
                          PgParams().text(hash), "read token");
    if (result.rows() == 0) return std::nullopt;
    return token_row(result, 0);
  }

  Expected<void> add_token(const StoredToken& token) override {
    std::lock_guard lock(mutex_);
    reconnect_if_lost();
    PgResult result =
        db_.run("INSERT INTO api_tokens (name, account, hash, created) VALUES ($1, $2, $3, $4)",
                PgParams().text(token.name).text(token.account).text(token.hash).text(token.created));
    if (!result.ok() && result.sqlstate() == kUniqueViolation) {
      return fail(ErrorCode::refused, "a token named \"" + token.name + "\" exists already");
    }
    if (!result.ok()) throw store::StoreError(db_.where() + ": cannot write token: " + result.error());
    return {};
  }

  bool remove_token(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return run("DELETE FROM api_tokens WHERE name = $1", PgParams().text(name), "delete token").affected() >
           0;
  }

 private:
  static AccountVersion version_row(const PgResult& result, int row) {
    return {static_cast<std::uint64_t>(result.int64(row, 0)), result.text(row, 1), result.text(row, 2),
            result.text(row, 3), result.text(row, 4)};
  }
  static StoredToken token_row(const PgResult& result, int row) {
    return {result.text(row, 0), result.text(row, 1), result.text(row, 2), result.text(row, 3)};
  }

  // A session the server or network ended is opened again before the next request.
  void reconnect_if_lost() {
    if (db_.connected()) return;
    if (Expected<void> reconnected = db_.reconnect(); !reconnected)
      throw store::StoreError(reconnected.error().message);
  }

  // Runs one statement; throws StoreError naming what (the admin API answers 500 with it).
  PgResult run(const std::string& sql, const PgParams& params, const char* what) {
    if (!db_.in_transaction()) reconnect_if_lost();
    PgResult result = db_.run(sql, params);
    if (!result.ok())
      throw store::StoreError(db_.where() + ": cannot " + std::string(what) + ": " + result.error());
    return result;
  }

  std::mutex mutex_;
  store::PgConnection db_;
};

}  // namespace

std::unique_ptr<AdminStore> open_pg_admin_store(const std::string& url) {
  return std::make_unique<PgAdminStore>(url);
}

}  // namespace vumi::daemon
