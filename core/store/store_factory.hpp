// Opens the state store a config names ("state": {"backend", "dir", "url"}), so that the daemon and
// the commands never name a backend (docs/config.md, docs/state.md).
#pragma once

#include <memory>

#include "common/state_backends.hpp"
#include "store/state_store.hpp"

namespace vumi::store {

enum class Access { read_write, read_only };

// Opens the store state names (sqlite: <dir>/vumi.db; postgresql: the database at url): read_write
// creates and migrates, read_only opens an existing store for inspection. Throws StoreError naming
// the backend's location and why, also for a backend this build does not know (listing kStateBackends).
std::unique_ptr<StateStore> open_state_store(const StateConfig& state, Access access);

// Whether state may already hold a store: for sqlite, <dir>/vumi.db exists; for postgresql, true
// (only connecting can tell); false for an unknown backend.
bool state_store_exists(const StateConfig& state);

// Where the state lives, for messages: the sqlite folder, or the PostgreSQL URL without its password.
std::string state_location(const StateConfig& state);

}  // namespace vumi::store
