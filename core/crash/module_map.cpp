#include "crash/module_map.hpp"

#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace vumi::crash {

namespace {

struct Listing {
  LoadedModule* out;
  std::size_t max;
  std::size_t count;
};

int add_module(dl_phdr_info* info, std::size_t, void* data) {
  auto& listing = *static_cast<Listing*>(data);
  if (listing.count == listing.max) return 1;
  LoadedModule module;
  module.base = info->dlpi_addr;
  bool any = false;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    const std::uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    const std::uintptr_t end = start + segment.p_memsz;
    if (!any || start < module.start) module.start = start;
    if (!any || end > module.end) module.end = end;
    any = true;
  }
  if (!any) return 0;
  const char* name = info->dlpi_name;
  if (listing.count == 0 && (name == nullptr || name[0] == '\0')) {
    const ssize_t n = ::readlink("/proc/self/exe", module.path, sizeof(module.path) - 1);
    module.path_size = n > 0 ? static_cast<std::size_t>(n) : 0;
  } else if (name != nullptr) {
    module.path_size = std::min(std::strlen(name), sizeof(module.path) - 1);
    std::memcpy(module.path, name, module.path_size);
  }
  module.path[module.path_size] = '\0';
  listing.out[listing.count++] = module;
  return 0;
}

}  // namespace

std::size_t list_loaded_modules(LoadedModule* out, std::size_t max) {
  Listing listing{out, max, 0};
  ::dl_iterate_phdr(add_module, &listing);
  return listing.count;
}

const LoadedModule* find_module(const LoadedModule* modules, std::size_t count,
                                std::uintptr_t address) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    if (address >= modules[i].start && address < modules[i].end) return &modules[i];
  }
  return nullptr;
}

}  // namespace vumi::crash
