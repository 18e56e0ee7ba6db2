#include "store/state_store.hpp"

#include "store/store_factory.hpp"

namespace vumi::store {

std::unique_ptr<StateStore> StateStore::open(const std::filesystem::path& state_dir) {
  return open_state_store({.backend = "sqlite", .dir = state_dir, .url = {}}, Access::read_write);
}

std::unique_ptr<StateStore> StateStore::open_read_only(const std::filesystem::path& state_dir) {
  return open_state_store({.backend = "sqlite", .dir = state_dir, .url = {}}, Access::read_only);
}

boost::json::object Contact::to_json() const {
  return {{"contact_key", contact_key}, {"msisdn", msisdn}, {"name", name},
          {"surname", surname},         {"extra", extra},   {"created_at", created_at},
          {"updated_at", updated_at}};
}

}  // namespace vumi::store
