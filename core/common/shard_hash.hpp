// The shard of an account (docs/scale-out.md): FNV-1a 64 of the account key's bytes, modulo the
// shard count. Fixed by the docs and pinned by a test: every build on every machine agrees.
#pragma once

#include <cstdint>
#include <string_view>

namespace vumi {

// FNV-1a, 64 bit (offset basis 14695981039346656037, prime 1099511628211).
constexpr std::uint64_t fnv1a_64(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

// The shard (0 .. shards-1) holding account; shards must be at least 1.
constexpr std::uint32_t shard_of(std::string_view account, std::uint32_t shards) {
  return static_cast<std::uint32_t>(fnv1a_64(account) % shards);
}

}  // namespace vumi
