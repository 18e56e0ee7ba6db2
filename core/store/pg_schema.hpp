// The state schema in PostgreSQL: the same numbered migrations as SQLite (schema_migrations.hpp),
// written for PostgreSQL, with the version in the table vumi_schema_version.
#pragma once

#include <span>

#include "store/pg_connection.hpp"
#include "store/schema_migrations.hpp"

namespace vumi::store {

// Every PostgreSQL migration, oldest first: step N leaves the tables SQLite's step N leaves.
std::span<const Migration> pg_schema_migrations();

// The database's schema version: 0 when it has none yet. Throws StoreError.
int pg_schema_version(PgConnection& connection);

// Brings the database to latest_schema_version() in one transaction under an advisory lock (so two
// dispatchers starting at once cannot both run a step); throws StoreError when a step fails or the
// database is newer than this build knows.
void migrate_pg_schema(PgConnection& connection);

}  // namespace vumi::store
