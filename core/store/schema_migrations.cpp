#include "store/schema_migrations.hpp"

#include <array>
#include <string>

#include "store/shared_migrations.hpp"
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

// Delivery (docs/delivery.md): outbound messages committed with their batch and sent after it,
// and the processed-message ledger that turns a redelivery into a counted duplicate.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY,
  topic        TEXT NOT NULL,
  body         TEXT NOT NULL
);
CREATE TABLE processed_messages (
  account_key  TEXT NOT NULL,
  message_key  TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (account_key, message_key)
) WITHOUT ROWID;
CREATE INDEX processed_messages_by_time ON processed_messages (processed_at);
)sql";

// Messages that crashed the daemon: a resent copy is dead-lettered instead of run (docs/operations.md).
constexpr const char* kVersion3 = R"sql(
CREATE TABLE quarantined_messages (
  message_key  TEXT PRIMARY KEY,
  account_key  TEXT,
  created_at   TEXT NOT NULL,
  report       TEXT NOT NULL
);
)sql";

// The message ledger (docs/state.md): message_id -> account and conversation, for transport events
// and conversation replies. created_at orders pruning.
constexpr const char* kMessageLedger = R"sql(
CREATE TABLE message_ledger (
  message_id         TEXT NOT NULL,
  direction          TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  account_key        TEXT NOT NULL,
  conversation_type  TEXT NOT NULL,
  conversation_key   TEXT NOT NULL,
  tag                TEXT NOT NULL DEFAULT '',
  created_at         TEXT NOT NULL,
  PRIMARY KEY (message_id, direction)
) WITHOUT ROWID;
CREATE INDEX message_ledger_by_age ON message_ledger (created_at);
)sql";

// Dead letters gain identity over time (first/last seen, count, source) so repeats coalesce into
// one row, a topic and attempts so they can be replayed and explained, and a replayed mark;
// pending_retries keeps steps waiting for another attempt across restarts.
constexpr const char* kVersion5 = R"sql(
ALTER TABLE dead_letters ADD COLUMN last_seen_at TEXT;
ALTER TABLE dead_letters ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dead_letters ADD COLUMN source TEXT;
ALTER TABLE dead_letters ADD COLUMN topic TEXT;
ALTER TABLE dead_letters ADD COLUMN attempts TEXT;
ALTER TABLE dead_letters ADD COLUMN replayed_at TEXT;
ALTER TABLE dead_letters ADD COLUMN coalesce_key TEXT;
CREATE INDEX dead_letters_by_coalesce_key ON dead_letters (coalesce_key) WHERE coalesce_key IS NOT NULL;
CREATE TABLE pending_retries (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  due_at_ms    INTEGER NOT NULL,
  account_key  TEXT NOT NULL,
  route        TEXT NOT NULL,
  step_index   INTEGER NOT NULL,
  topic        TEXT NOT NULL,
  event        TEXT NOT NULL,
  steps        TEXT NOT NULL,
  attempts     TEXT NOT NULL
);
)sql";

// Outbox rows name the account they were sent for, so a cluster member sends only its own
// shards' rows (docs/scale-out.md); older rows belong to no account ('').
constexpr const char* kVersion6 = R"sql(
ALTER TABLE outbox ADD COLUMN account_key TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<Migration, 7> kMigrations{{
    {1, "contacts, inbox and dead_letters tables", kVersion1},
    {2, "outbox and processed_messages (delivery) tables", kVersion2},
    {3, "quarantined_messages table", kVersion3},
    {4, "message_ledger table", kMessageLedger},
    {5, "dead letters coalesce and can be replayed; pending_retries table", kVersion5},
    {6, "outbox rows name their account", kVersion6},
    {7, "one unreplayed dead letter per coalesce key (duplicates merged)", kOneUnreplayedDeadLetterPerKey},
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
