// The state store backends this build knows: the values of the config's "state.backend".
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace vumi {

inline constexpr std::array<std::string_view, 1> kStateBackends{"sqlite"};

// The known backends for messages: "sqlite" (comma-separated when there are several).
inline std::string state_backend_names() {
  std::string names;
  for (std::string_view name : kStateBackends) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

}  // namespace vumi
