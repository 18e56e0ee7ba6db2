#include "config/cluster_reader.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <set>
#include <string>

#include "common/json.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

// A list of distinct shard numbers below shards, sorted.
std::vector<std::uint32_t> shard_list(const bj::value& v, const std::string& path, std::uint32_t shards,
                                      FieldReader& reader) {
  std::set<std::uint32_t> seen;
  const bj::array* arr = v.if_array();
  if (!arr) {
    reader.error(path, expected("array of shard numbers", v));
    return {};
  }
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string at = json::index_path(path, i);
    auto n = reader.integer((*arr)[i], at, 0, kMaxShards - 1);
    if (!n) continue;
    if (*n >= shards) {
      reader.error(at, "shard " + std::to_string(*n) + " does not exist: cluster.shards is " +
                           std::to_string(shards) + " (shards 0 to " + std::to_string(shards - 1) + ")");
      continue;
    }
    if (!seen.insert(static_cast<std::uint32_t>(*n)).second)
      reader.error(at, "shard " + std::to_string(*n) + " is listed twice");
  }
  return {seen.begin(), seen.end()};
}

}  // namespace

void read_cluster(const bj::value& v, std::string_view backend, std::optional<ClusterConfig>& out,
                  FieldReader& reader) {
  const bj::object* obj = reader.object(v, "cluster");
  if (!obj) return;
  reader.allowed_keys(*obj, {"shards", "name", "owned", "standby", "lease_poll_ms"}, "cluster");
  ClusterConfig cluster;
  if (const bj::value* n = obj->if_contains("shards")) {
    if (auto shards = reader.integer(*n, "cluster.shards", 1, kMaxShards))
      cluster.shards = static_cast<std::uint32_t>(*shards);
  } else {
    reader.error("cluster",
                 "missing required key \"shards\" (how many shards the accounts are divided into)");
  }
  if (const bj::value* name = obj->if_contains("name")) {
    if (auto text = reader.identifier(*name, "cluster.name", "dispatcher name")) cluster.name = *text;
  } else {
    reader.error("cluster",
                 "missing required key \"name\" (this dispatcher's name, shown by cluster status)");
  }
  if (const bj::value* owned = obj->if_contains("owned"))
    cluster.owned = shard_list(*owned, "cluster.owned", cluster.shards, reader);
  if (const bj::value* standby = obj->if_contains("standby"))
    cluster.standby = shard_list(*standby, "cluster.standby", cluster.shards, reader);
  for (std::uint32_t shard : cluster.standby) {
    if (std::binary_search(cluster.owned.begin(), cluster.owned.end(), shard))
      reader.error("cluster.standby", "shard " + std::to_string(shard) + " is in cluster.owned too");
  }
  if (cluster.owned.empty() && cluster.standby.empty())
    reader.error("cluster", "owns no shard: list some in \"owned\" or \"standby\"");
  if (!cluster.standby.empty() && backend != "postgresql")
    reader.error("cluster.standby",
                 "needs \"state\": {\"backend\": \"postgresql\"}: only a shared store lets one dispatcher "
                 "carry on another's shard (state.backend is " +
                     json::quoted(backend) + ")");
  if (const bj::value* poll = obj->if_contains("lease_poll_ms")) {
    if (auto ms = reader.integer(*poll, "cluster.lease_poll_ms", 50, 60000))
      cluster.lease_poll_ms = static_cast<std::uint32_t>(*ms);
  }
  out = std::move(cluster);
}

}  // namespace vumi::config
