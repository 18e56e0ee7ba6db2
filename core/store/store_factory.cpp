#include "store/store_factory.hpp"

#include <string>

#include "store/pg_connection.hpp"
#include "store/pg_state_store.hpp"
#include "store/sqlite_state_store.hpp"

namespace vumi::store {

std::unique_ptr<StateStore> open_state_store(const StateConfig& state, Access access) {
  const bool read_only = access == Access::read_only;
  if (state.backend == "sqlite") {
    return std::make_unique<SqliteStateStore>(
        state.dir, read_only ? SqliteStateStore::Mode::read_only : SqliteStateStore::Mode::read_write);
  }
  if (state.backend == "postgresql") {
    if (state.url.empty()) throw StoreError("state backend \"postgresql\" needs a url (state.url)");
    return std::make_unique<PgStateStore>(
        state.url, read_only ? PgStateStore::Mode::read_only : PgStateStore::Mode::read_write);
  }
  throw StoreError("unknown state backend \"" + state.backend + "\" (known: " + state_backend_names() + ")");
}

bool state_store_exists(const StateConfig& state) {
  std::error_code ec;
  if (state.backend == "postgresql") return true;
  return state.backend == "sqlite" &&
         std::filesystem::exists(state.dir / SqliteStateStore::kDatabaseFileName, ec);
}

std::string state_location(const StateConfig& state) {
  if (state.backend == "postgresql") return "PostgreSQL " + redacted_url(state.url);
  return "state_dir \"" + state.dir.string() + "\"";
}

}  // namespace vumi::store
