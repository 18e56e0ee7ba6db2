#include "store/pg_schema.hpp"

#include <array>
#include <string>

#include "store/shared_migrations.hpp"
#include "store/state_store.hpp"

namespace vumi::store {

namespace {

// Differences from SQLite: ids are identity columns (never reused), contacts.extra is jsonb merged by
// vumi_json_merge_patch (SQLite's json_patch, RFC 7396), dead_letters.input is bytea (an input
// refused for bad UTF-8 keeps its bytes; a text column would refuse it); times stay ISO-8601 text,
// so both stores compare and print them alike.
constexpr const char* kVersion1 = R"sql(
CREATE FUNCTION vumi_json_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  merged jsonb;
  k text;
  v jsonb;
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  IF target IS NULL OR jsonb_typeof(target) <> 'object' THEN
    merged := '{}'::jsonb;
  ELSE
    merged := target;
  END IF;
  FOR k, v IN SELECT key, value FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(v) = 'null' THEN
      merged := merged - k;
    ELSE
      merged := jsonb_set(merged, ARRAY[k], vumi_json_merge_patch(merged -> k, v));
    END IF;
  END LOOP;
  RETURN merged;
END
$$;
CREATE TABLE contacts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  contact_key  text NOT NULL UNIQUE,
  account_key  text NOT NULL,
  msisdn       text NOT NULL,
  name         text NOT NULL DEFAULT '',
  surname      text NOT NULL DEFAULT '',
  extra        jsonb NOT NULL DEFAULT '{}',
  created_at   text NOT NULL,
  updated_at   text NOT NULL,
  UNIQUE (account_key, msisdn)
);
CREATE TABLE inbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_key  text NOT NULL,
  message      text NOT NULL,
  received_at  text NOT NULL
);
CREATE INDEX inbox_by_account ON inbox (account_key, id);
CREATE TABLE dead_letters (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at   text NOT NULL,
  reason       text NOT NULL,
  message      text NOT NULL,
  account_key  text,
  route        text,
  step         text,
  input        bytea NOT NULL
);
CREATE INDEX dead_letters_by_account ON dead_letters (account_key, id);
)sql";

constexpr const char* kVersion2 = R"sql(
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic        text NOT NULL,
  body         text NOT NULL
);
CREATE TABLE processed_messages (
  account_key  text NOT NULL,
  message_key  text NOT NULL,
  processed_at bigint NOT NULL,
  PRIMARY KEY (account_key, message_key)
);
CREATE INDEX processed_messages_by_time ON processed_messages (processed_at);
)sql";

constexpr const char* kVersion3 = R"sql(
CREATE TABLE quarantined_messages (
  message_key  text PRIMARY KEY,
  account_key  text,
  created_at   text NOT NULL,
  report       text NOT NULL
);
)sql";

constexpr const char* kVersion4 = R"sql(
CREATE TABLE message_ledger (
  message_id         text NOT NULL,
  direction          text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  account_key        text NOT NULL,
  conversation_type  text NOT NULL,
  conversation_key   text NOT NULL,
  tag                text NOT NULL DEFAULT '',
  created_at         text NOT NULL,
  PRIMARY KEY (message_id, direction)
);
CREATE INDEX message_ledger_by_age ON message_ledger (created_at);
)sql";

constexpr const char* kVersion5 = R"sql(
ALTER TABLE dead_letters ADD COLUMN last_seen_at text;
ALTER TABLE dead_letters ADD COLUMN count bigint NOT NULL DEFAULT 1;
ALTER TABLE dead_letters ADD COLUMN source text;
ALTER TABLE dead_letters ADD COLUMN topic text;
ALTER TABLE dead_letters ADD COLUMN attempts text;
ALTER TABLE dead_letters ADD COLUMN replayed_at text;
ALTER TABLE dead_letters ADD COLUMN coalesce_key text;
CREATE INDEX dead_letters_by_coalesce_key ON dead_letters (coalesce_key) WHERE coalesce_key IS NOT NULL;
CREATE TABLE pending_retries (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  due_at_ms    bigint NOT NULL,
  account_key  text NOT NULL,
  route        text NOT NULL,
  step_index   bigint NOT NULL,
  topic        text NOT NULL,
  event        text NOT NULL,
  steps        text NOT NULL,
  attempts     text NOT NULL
);
)sql";

// Outbox rows name their account (a cluster member sends only its shards' rows, docs/scale-out.md).
constexpr const char* kVersion6 = R"sql(
ALTER TABLE outbox ADD COLUMN account_key text NOT NULL DEFAULT '';
)sql";

// The summaries are SQLite's (schema_migrations.cpp): a test checks that both lists agree.
constexpr std::array<Migration, 7> kMigrations{{
    {1, "contacts, inbox and dead_letters tables", kVersion1},
    {2, "outbox and processed_messages (delivery) tables", kVersion2},
    {3, "quarantined_messages table", kVersion3},
    {4, "message_ledger table", kVersion4},
    {5, "dead letters coalesce and can be replayed; pending_retries table", kVersion5},
    {6, "outbox rows name their account", kVersion6},
    {7, "one unreplayed dead letter per coalesce key (duplicates merged)", kOneUnreplayedDeadLetterPerKey},
}};

// Any constant shared by every vumi-dispatcher: the advisory lock that serialises migrations.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7316852190)";

constexpr const char* kVersionTable =
    "CREATE TABLE IF NOT EXISTS vumi_schema_version ("
    "  one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),"
    "  version integer NOT NULL)";

}  // namespace

std::span<const Migration> pg_schema_migrations() {
  return kMigrations;
}

int pg_schema_version(PgConnection& connection) {
  PgResult exists = connection.must_run("SELECT to_regclass('vumi_schema_version') IS NOT NULL",
                                        "reading the schema version");
  if (exists.text(0, 0) != "t") return 0;
  PgResult version =
      connection.must_run("SELECT version FROM vumi_schema_version", "reading the schema version");
  return version.rows() == 0 ? 0 : static_cast<int>(version.int64(0, 0));
}

void migrate_pg_schema(PgConnection& connection) {
  const std::string& where = connection.where();
  connection.must_run("BEGIN", "migrating the schema");
  try {
    connection.must_run(kMigrationLock, "locking the schema for migration");
    connection.must_run(kVersionTable, "creating vumi_schema_version");
    const int current = pg_schema_version(connection);
    if (current > latest_schema_version()) {
      throw StoreError(where + " has schema version " + std::to_string(current) +
                       ", newer than this build supports (" + std::to_string(latest_schema_version()) +
                       "); use a newer vumi-dispatcher");
    }
    for (const Migration& step : kMigrations) {
      if (step.version <= current) continue;
      PgResult result = connection.run(step.sql);
      if (!result.ok()) {
        throw StoreError(where + ": migration to schema version " + std::to_string(step.version) + " (" +
                         step.summary + ") failed: " + result.error());
      }
    }
    if (current < latest_schema_version()) {
      PgParams version;
      version.int64(latest_schema_version());
      PgResult result = connection.run(
          "INSERT INTO vumi_schema_version (version) VALUES ($1) "
          "ON CONFLICT (one_row) DO UPDATE SET version = excluded.version",
          version);
      if (!result.ok()) throw StoreError(where + ": recording the schema version: " + result.error());
    }
    connection.must_run("COMMIT", "committing the schema migration");
  } catch (...) {
    connection.run("ROLLBACK");
    throw;
  }
}

}  // namespace vumi::store
