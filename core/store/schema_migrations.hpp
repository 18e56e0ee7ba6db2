// The state schema as an ordered list of migrations; PRAGMA user_version records how many ran.
#pragma once

#include <span>

#include "store/sqlite_connection.hpp"

namespace vumi::store {

struct Migration {
  int version;          // the user_version after this step (1, 2, ...: consecutive)
  const char* summary;  // one line for docs and errors
  const char* sql;      // statements run in the migration's transaction
};

// Every migration, oldest first. New versions append; released steps never change.
std::span<const Migration> schema_migrations();

// The version a database has after all migrations.
int latest_schema_version();

// Brings the database to the latest version in one transaction (all steps or none); throws StoreError when
// a step fails or the database is newer than this build knows.
void migrate_schema(SqliteConnection& connection);

}  // namespace vumi::store
