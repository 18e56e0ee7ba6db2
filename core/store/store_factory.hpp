// Opens the state store a config names ("state": {"backend", "dir"}), so that the daemon and the
// commands never name a backend (docs/config.md, docs/state.md).
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "store/state_store.hpp"

namespace vumi::store {

enum class Access { read_write, read_only };

// Opens backend's store over dir (for "sqlite", <dir>/vumi.db): read_write creates and migrates,
// read_only opens an existing store for inspection. Throws StoreError naming the backend and why,
// also for a backend this build does not know (listing kStateBackends).
std::unique_ptr<StateStore> open_state_store(std::string_view backend, const std::filesystem::path& dir,
                                             Access access);

// Whether backend already holds a store over dir (for "sqlite", <dir>/vumi.db exists); false for an
// unknown backend.
bool state_store_exists(std::string_view backend, const std::filesystem::path& dir);

}  // namespace vumi::store
