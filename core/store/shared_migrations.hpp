// Migration steps whose SQL both backends run as it is (schema_migrations.cpp, pg_schema.cpp).
#pragma once

namespace vumi::store {

// Version 7: at most one unreplayed dead letter per coalesce key, kept by a unique index, so
// dispatchers sharing one PostgreSQL database cannot each insert a row for the same key
// (docs/state.md). Rows that already doubled are merged into the oldest first (counts summed,
// last seen the latest); replayed rows are history and stay as they are.
inline constexpr const char* kOneUnreplayedDeadLetterPerKey = R"sql(
UPDATE dead_letters SET
  count = (SELECT sum(d.count) FROM dead_letters d
           WHERE d.coalesce_key = dead_letters.coalesce_key AND d.replayed_at IS NULL),
  last_seen_at = (SELECT max(coalesce(d.last_seen_at, d.created_at)) FROM dead_letters d
                  WHERE d.coalesce_key = dead_letters.coalesce_key AND d.replayed_at IS NULL)
WHERE coalesce_key IS NOT NULL AND replayed_at IS NULL
  AND id = (SELECT min(d.id) FROM dead_letters d
            WHERE d.coalesce_key = dead_letters.coalesce_key AND d.replayed_at IS NULL)
  AND EXISTS (SELECT 1 FROM dead_letters d
              WHERE d.coalesce_key = dead_letters.coalesce_key AND d.replayed_at IS NULL AND d.id <> dead_letters.id);
DELETE FROM dead_letters
WHERE coalesce_key IS NOT NULL AND replayed_at IS NULL
  AND id > (SELECT min(d.id) FROM dead_letters d
            WHERE d.coalesce_key = dead_letters.coalesce_key AND d.replayed_at IS NULL);
DROP INDEX dead_letters_by_coalesce_key;
CREATE UNIQUE INDEX dead_letters_unreplayed_by_coalesce_key ON dead_letters (coalesce_key)
  WHERE coalesce_key IS NOT NULL AND replayed_at IS NULL;
)sql";

}  // namespace vumi::store
