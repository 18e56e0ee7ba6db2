// The state store backends this build knows (the values of the config's "state.backend"), and the
// settings that say which store holds the state.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace vumi {

inline constexpr std::array<std::string_view, 2> kStateBackends{"sqlite", "postgresql"};

// The known backends for messages: "sqlite, postgresql".
inline std::string state_backend_names() {
  std::string names;
  for (std::string_view name : kStateBackends) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

// The config's "state" block (docs/config.md): which backend, and where its state lives.
struct StateConfig {
  std::string backend = "sqlite";  // one of kStateBackends
  // sqlite: the folder of vumi.db and admin.db. Every backend: this machine's crash record and the
  // folder lock that keeps a second daemon off it.
  std::filesystem::path dir = "var";
  std::string url;  // postgresql: the libpq connection URL; empty for sqlite
};

}  // namespace vumi
