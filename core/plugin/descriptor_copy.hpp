// Reading size-prefixed ABI structs written by a plugin built against another ABI minor.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vumi::plugin {

// A host-sized copy of the struct at source whose writer declared declared_size bytes: the bytes
// both sides know are copied, fields the writer did not know (a newer host) read as zero/NULL,
// and bytes the host does not know (a bigger writer) are ignored.
template <class T>
T copy_descriptor(const void* source, std::uint32_t declared_size) {
  static_assert(std::is_trivially_copyable_v<T>);
  T out;
  std::memset(&out, 0, sizeof out);
  std::memcpy(&out, source, std::min<std::size_t>(declared_size, sizeof out));
  return out;
}

}  // namespace vumi::plugin
