// Thin RAII over the SQLite C API: one connection, prepared statements that reset themselves.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vumi::store {

class SqliteConnection;

// A prepared statement, prepared once and reused: bind, step, read columns, reset.
class Statement {
 public:
  Statement() = default;
  Statement(SqliteConnection& connection, std::string_view sql);  // throws StoreError
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Binders return false on failure (the connection's errmsg says why). Indexes are 1-based;
  // text is copied by SQLite, so the argument may die before step().
  bool bind_text(int index, std::string_view text);
  bool bind_int64(int index, std::int64_t value);
  bool bind_null(int index);
  // Binds text, or NULL when text is empty.
  bool bind_text_or_null(int index, std::string_view text);

  // Runs one step: SQLITE_ROW, SQLITE_DONE, or an error code.
  int step();
  // Clears bindings and rewinds, so the next use starts clean.
  void reset();

  std::string column_text(int index) const;  // NULL reads as ""
  std::int64_t column_int64(int index) const;

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// Resets a statement when the scope ends, whatever path leaves it.
class StatementUse {
 public:
  explicit StatementUse(Statement& statement) : statement_(statement) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  ~StatementUse() { statement_.reset(); }
  Statement* operator->() { return &statement_; }

 private:
  Statement& statement_;
};

class SqliteConnection {
 public:
  // How long a statement waits for another connection's lock before it fails with SQLITE_BUSY.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens the file with the given sqlite3_open_v2 flags, waiting up to kBusyTimeoutMs for locks;
  // throws StoreError naming the path.
  SqliteConnection(const std::filesystem::path& file, int flags);
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection();

  // Runs SQL text (one or more statements) without results; throws StoreError on failure.
  void exec(std::string_view sql);
  // Runs SQL text; returns SQLite's message on failure instead of throwing (data path).
  std::optional<std::string> try_exec(std::string_view sql);
  // Runs a statement returning one integer (e.g. PRAGMA user_version); throws StoreError.
  std::int64_t query_int(std::string_view sql);

  std::string errmsg() const { return sqlite3_errmsg(db_); }
  int errcode() const { return sqlite3_errcode(db_); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  const std::filesystem::path& file() const { return file_; }
  sqlite3* handle() { return db_; }

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace vumi::store
