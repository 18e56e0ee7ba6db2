// Which accounts this dispatcher handles: in a cluster, those of the shards it holds now
// (docs/scale-out.md); without one, every account.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/shard_hash.hpp"

namespace vumi::dispatch {

class ShardOwnership {
 public:
  // shards: the cluster's shard count (at least 1); no shard is held at first.
  explicit ShardOwnership(std::uint32_t shards) : held_(shards, false) {}

  // Whether messages of account are handled here now.
  bool owns(std::string_view account) const { return held_[shard_of(account, count())]; }
  // Whether messages tied to no account are handled here: forwarded commands, inbound messages on
  // a tag no account owns, refused transport traffic. The holder of shard 0 takes them.
  bool owns_unassigned() const { return held_[0]; }

  std::uint32_t count() const { return static_cast<std::uint32_t>(held_.size()); }
  bool holds(std::uint32_t shard) const { return shard < held_.size() && held_[shard]; }
  void set(std::uint32_t shard, bool held) {
    if (shard < held_.size()) held_[shard] = held;
  }

 private:
  std::vector<bool> held_;
};

}  // namespace vumi::dispatch
