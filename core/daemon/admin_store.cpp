#include "daemon/admin_store.hpp"

#include <chrono>
#include <ctime>
#include <optional>

#include "daemon/pg_admin_store.hpp"
#include "store/sqlite_connection.hpp"
#include "store/state_dir_lock.hpp"
#include "store/state_store.hpp"
#include "store/wal_checkpointer.hpp"

namespace vumi::daemon {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS api_accounts (
  key TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_account_versions (
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  time TEXT NOT NULL,
  token TEXT NOT NULL,
  document TEXT NOT NULL,
  diff TEXT NOT NULL,
  PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS api_tokens (
  name TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL
);
)sql";

class SqliteAdminStore final : public AdminStore {
 public:
  explicit SqliteAdminStore(const std::filesystem::path& file)
      : db_(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    // As vumi.db (docs/state.md): a commit survives a process crash without an fsync on the loop.
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = NORMAL");
    db_.exec(kSchema);
    checkpointer_.emplace(db_, "admin database");
  }

  std::vector<StoredAccount> accounts() override {
    store::Statement st(
        db_, "SELECT key, document, version FROM api_accounts WHERE document != 'null' ORDER BY key");
    std::vector<StoredAccount> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({st.column_text(0), st.column_text(1), static_cast<std::uint64_t>(st.column_int64(2))});
    check(rc, "read accounts");
    return out;
  }

  Expected<void> put_account(const std::string& key, const std::string& document,
                             std::uint64_t expected_version, const AccountVersion& entry) override {
    db_.exec("BEGIN IMMEDIATE");
    try {
      store::Statement read(db_, "SELECT version FROM api_accounts WHERE key = ?1");
      read.bind_text(1, key);
      std::uint64_t stored = 0;
      if (read.step() == SQLITE_ROW) stored = static_cast<std::uint64_t>(read.column_int64(0));
      if (stored != expected_version) {
        db_.exec("ROLLBACK");
        return fail(ErrorCode::refused, "account \"" + key + "\" is at version " + std::to_string(stored) +
                                            ", not " + std::to_string(expected_version));
      }
      store::Statement write(db_,
                             "INSERT INTO api_accounts (key, document, version) VALUES (?1, ?2, ?3) "
                             "ON CONFLICT (key) DO UPDATE SET document = ?2, version = ?3");
      write.bind_text(1, key);
      write.bind_text(2, document);
      write.bind_int64(3, static_cast<std::int64_t>(entry.version));
      check(write.step(), "write account");
      store::Statement log(db_,
                           "INSERT INTO api_account_versions (key, version, time, token, document, diff) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      log.bind_text(1, key);
      log.bind_int64(2, static_cast<std::int64_t>(entry.version));
      log.bind_text(3, entry.time);
      log.bind_text(4, entry.token);
      log.bind_text(5, entry.document);
      log.bind_text(6, entry.diff);
      check(log.step(), "write account version");
      db_.exec("COMMIT");
      return {};
    } catch (...) {
      db_.try_exec("ROLLBACK");
      throw;
    }
  }

  std::vector<AccountVersion> history(const std::string& key, std::size_t limit) override {
    store::Statement st(
        db_,
        "SELECT version, time, token, document, diff FROM api_account_versions WHERE key = ?1 "
        "ORDER BY version DESC LIMIT ?2");
    st.bind_text(1, key);
    st.bind_int64(2, static_cast<std::int64_t>(limit));
    std::vector<AccountVersion> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.push_back(row(st));
    check(rc, "read account history");
    return out;
  }

  std::optional<AccountVersion> version(const std::string& key, std::uint64_t number) override {
    store::Statement st(db_,
                        "SELECT version, time, token, document, diff FROM api_account_versions "
                        "WHERE key = ?1 AND version = ?2");
    st.bind_text(1, key);
    st.bind_int64(2, static_cast<std::int64_t>(number));
    int rc = st.step();
    if (rc == SQLITE_ROW) return row(st);
    check(rc, "read account version");
    return std::nullopt;
  }

  std::vector<StoredToken> tokens() override {
    store::Statement st(db_, "SELECT name, account, hash, created FROM api_tokens ORDER BY name");
    std::vector<StoredToken> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3)});
    check(rc, "read tokens");
    return out;
  }

  std::optional<StoredToken> token_by_hash(const std::string& hash) override {
    store::Statement st(db_, "SELECT name, account, hash, created FROM api_tokens WHERE hash = ?1");
    st.bind_text(1, hash);
    int rc = st.step();
    if (rc == SQLITE_ROW)
      return StoredToken{st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3)};
    check(rc, "read token");
    return std::nullopt;
  }

  Expected<void> add_token(const StoredToken& token) override {
    store::Statement st(db_, "INSERT INTO api_tokens (name, account, hash, created) VALUES (?1, ?2, ?3, ?4)");
    st.bind_text(1, token.name);
    st.bind_text(2, token.account);
    st.bind_text(3, token.hash);
    st.bind_text(4, token.created);
    int rc = st.step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return fail(ErrorCode::refused, "a token named \"" + token.name + "\" exists already");
    }
    check(rc, "write token");
    return {};
  }

  bool remove_token(const std::string& name) override {
    store::Statement st(db_, "DELETE FROM api_tokens WHERE name = ?1");
    st.bind_text(1, name);
    check(st.step(), "delete token");
    return sqlite3_changes(db_.handle()) > 0;
  }

 private:
  static AccountVersion row(store::Statement& st) {
    return {static_cast<std::uint64_t>(st.column_int64(0)), st.column_text(1), st.column_text(2),
            st.column_text(3), st.column_text(4)};
  }

  void check(int rc, const char* what) {
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
      throw store::StoreError("admin database " + db_.file().string() + ": cannot " + what + ": " +
                              db_.errmsg());
  }

  store::SqliteConnection db_;
  // A checkpoint never runs inside a commit on the loop (store/wal_checkpointer.hpp).
  std::optional<store::WalCheckpointer> checkpointer_;
};

}  // namespace

std::unique_ptr<AdminStore> AdminStore::open(const StateConfig& state) {
  if (state.backend == "postgresql") return open_pg_admin_store(state.url);
  // Private like vumi.db (docs/security.md): the folder 0700, the database and its journal 0600.
  store::secure_state_dir(state.dir);
  const auto file = state.dir / "admin.db";
  store::secure_state_file(file, true);
  store::secure_state_file(file.string() + "-wal", false);
  store::secure_state_file(file.string() + "-shm", false);
  return std::make_unique<SqliteAdminStore>(file);
}

bool AdminStore::exists(const StateConfig& state) {
  std::error_code ec;
  return state.backend == "postgresql" || std::filesystem::exists(state.dir / "admin.db", ec);
}

std::string utc_now_iso8601() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace vumi::daemon
