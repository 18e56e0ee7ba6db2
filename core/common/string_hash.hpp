// Transparent hashing so unordered containers keyed by std::string accept string_view lookups
// without building a std::string per lookup.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace vumi {

struct StringHash {
  using is_transparent = void;
  // Not noexcept on purpose: libstdc++ keeps each node's hash code only for a hash that may throw
  // (or that it knows to be slow, as std::hash of strings). Without it, a lookup hashes the key of
  // every node it passes to tell where its bucket ends, and a rehash hashes every key again.
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
static_assert(!std::is_nothrow_invocable_v<const StringHash&, const std::string&>,
              "StringHash must not be noexcept: see its operator()");

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace vumi
