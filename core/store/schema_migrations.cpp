#include "store/schema_migrations.hpp"

#include <array>
#include <string>

#include "store/state_store.hpp"

namespace vumi::store {

namespace {

constexpr const char* kVersion1 = R"sql(
CREATE TABLE contacts (
  id           INTEGER PRIMARY KEY,
  contact_key  TEXT NOT NULL UNIQUE,
  account_key  TEXT NOT NULL,
  msisdn       TEXT NOT NULL,
  name         TEXT NOT NULL DEFAULT '',
  surname      TEXT NOT NULL DEFAULT '',
  extra        TEXT NOT NULL DEFAULT '{}',
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  UNIQUE (account_key, msisdn)
);
CREATE TABLE inbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  account_key  TEXT NOT NULL,
  message      TEXT NOT NULL,
  received_at  TEXT NOT NULL
);
CREATE INDEX inbox_by_account ON inbox (account_key, id);
CREATE TABLE dead_letters (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at   TEXT NOT NULL,
  reason       TEXT NOT NULL,
  message      TEXT NOT NULL,
  account_key  TEXT,
  route        TEXT,
  step         TEXT,
  input        TEXT NOT NULL
);
CREATE INDEX dead_letters_by_account ON dead_letters (account_key, id);
)sql";

// Messages that crashed the daemon: a resent copy is dead-lettered instead of run (docs/operations.md).
constexpr const char* kVersion2 = R"sql(
CREATE TABLE quarantined_messages (
  message_key  TEXT PRIMARY KEY,
  account_key  TEXT,
  created_at   TEXT NOT NULL,
  report       TEXT NOT NULL
);
)sql";

constexpr std::array<Migration, 2> kMigrations{{
    {1, "contacts, inbox and dead_letters tables", kVersion1},
    {2, "quarantined_messages table", kVersion2},
}};

}  // namespace

std::span<const Migration> schema_migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations.back().version;
}

void migrate_schema(SqliteConnection& connection) {
  const std::string where = "state database " + connection.file().string();
  // IMMEDIATE takes the write lock before reading the version, so two processes opening a
  // fresh database at once cannot both run the same step.
  connection.exec("BEGIN IMMEDIATE");
  try {
    auto current = connection.query_int("PRAGMA user_version");
    if (current > latest_schema_version()) {
      throw StoreError(where + " has schema version " + std::to_string(current) +
                       ", newer than this build supports (" + std::to_string(latest_schema_version()) +
                       "); use a newer vumi-dispatcher");
    }
    for (const Migration& step : kMigrations) {
      if (step.version <= current) continue;
      if (auto failure = connection.try_exec(step.sql)) {
        throw StoreError(where + ": migration to schema version " + std::to_string(step.version) + " (" +
                         step.summary + ") failed: " + *failure);
      }
      connection.exec("PRAGMA user_version = " + std::to_string(step.version));
    }
    connection.exec("COMMIT");
  } catch (...) {
    connection.try_exec("ROLLBACK");
    throw;
  }
}

}  // namespace vumi::store
