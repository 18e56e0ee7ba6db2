#include "store/sqlite_connection.hpp"

#include <utility>

#include "store/state_store.hpp"

namespace vumi::store {

Statement::Statement(SqliteConnection& connection, std::string_view sql) {
  if (sqlite3_prepare_v3(connection.handle(), sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) != SQLITE_OK) {
    throw StoreError("state database " + connection.file().string() + ": cannot prepare \"" +
                     std::string(sql) + "\": " + connection.errmsg());
  }
}

Statement::Statement(Statement&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    statement_ = std::exchange(other.statement_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(statement_);
}

bool Statement::bind_text(int index, std::string_view text) {
  // A non-null pointer even for "" so SQLite stores an empty string, not NULL.
  const char* data = text.empty() ? "" : text.data();
  return sqlite3_bind_text64(statement_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) ==
         SQLITE_OK;
}

bool Statement::bind_int64(int index, std::int64_t value) {
  return sqlite3_bind_int64(statement_, index, value) == SQLITE_OK;
}

bool Statement::bind_null(int index) {
  return sqlite3_bind_null(statement_, index) == SQLITE_OK;
}

bool Statement::bind_text_or_null(int index, std::string_view text) {
  return text.empty() ? bind_null(index) : bind_text(index, text);
}

int Statement::step() {
  return sqlite3_step(statement_);
}

void Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(statement_, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_, index)));
}

std::int64_t Statement::column_int64(int index) const {
  return sqlite3_column_int64(statement_, index);
}

SqliteConnection::SqliteConnection(const std::filesystem::path& file, int flags) : file_(file) {
  int rc = sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError("cannot open state database " + file.string() + ": " + why);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

SqliteConnection::~SqliteConnection() {
  sqlite3_close_v2(db_);
}

void SqliteConnection::exec(std::string_view sql) {
  if (auto failure = try_exec(sql)) {
    throw StoreError("state database " + file_.string() + ": " + *failure);
  }
}

std::optional<std::string> SqliteConnection::try_exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* message = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return std::nullopt;
  std::string why = message != nullptr ? message : errmsg();
  sqlite3_free(message);
  return why;
}

std::int64_t SqliteConnection::query_int(std::string_view sql) {
  Statement statement(*this, sql);
  int rc = statement.step();
  if (rc != SQLITE_ROW) {
    throw StoreError("state database " + file_.string() + ": \"" + std::string(sql) +
                     "\" failed: " + errmsg());
  }
  return statement.column_int64(0);
}

}  // namespace vumi::store
