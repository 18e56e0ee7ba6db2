// Reads the "cluster" section: the shard count and which shards this dispatcher owns or stands by for.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "config/field_reader.hpp"

namespace vumi::config {

// The most shards a cluster may have (each is an advisory lock and a subscription set).
constexpr std::uint32_t kMaxShards = 4096;

// Reads cluster into out, recording every problem with its JSON path. backend is state.backend:
// standby shards need "postgresql" (only a shared store can hand a shard over).
void read_cluster(const boost::json::value& v, std::string_view backend, std::optional<ClusterConfig>& out,
                  FieldReader& reader);

}  // namespace vumi::config
