// The shared objects loaded in this process and where: lets a crash record name a frame as
// module + offset, which stays meaningful after a restart (ASLR moves every base).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vumi::crash {

struct LoadedModule {
  std::uintptr_t start = 0;  // lowest mapped address of its PT_LOAD segments
  std::uintptr_t end = 0;    // one past the highest
  std::uintptr_t base = 0;   // load bias: address = base + ELF virtual address
  std::size_t path_size = 0;
  char path[512] = {};
};

// Fills out with up to max modules (the executable first, by its /proc/self/exe path); returns
// how many. Not async-signal-safe: call it at start and after plugins are loaded.
std::size_t list_loaded_modules(LoadedModule* out, std::size_t max);

// The module holding address, or null. Async-signal-safe.
const LoadedModule* find_module(const LoadedModule* modules, std::size_t count,
                                std::uintptr_t address) noexcept;

}  // namespace vumi::crash
