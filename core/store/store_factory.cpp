#include "store/store_factory.hpp"

#include <string>

#include "common/state_backends.hpp"
#include "store/sqlite_state_store.hpp"

namespace vumi::store {

std::unique_ptr<StateStore> open_state_store(std::string_view backend, const std::filesystem::path& dir,
                                             Access access) {
  if (backend == "sqlite") {
    return std::make_unique<SqliteStateStore>(dir, access == Access::read_only
                                                       ? SqliteStateStore::Mode::read_only
                                                       : SqliteStateStore::Mode::read_write);
  }
  throw StoreError("unknown state backend \"" + std::string(backend) + "\" (known: " + state_backend_names() +
                   ")");
}

bool state_store_exists(std::string_view backend, const std::filesystem::path& dir) {
  std::error_code ec;
  return backend == "sqlite" && std::filesystem::exists(dir / SqliteStateStore::kDatabaseFileName, ec);
}

}  // namespace vumi::store
