// `vumi-dispatcher cluster status -c FILE [--json]`: each shard's owner and lag (docs/scale-out.md).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/text_table.hpp"
#include "cluster/cluster_status.hpp"
#include "cluster/shard_leases.hpp"

namespace vumi::cli {

namespace {

namespace bj = boost::json;

std::string owner_names(const cluster::ShardStatus& shard) {
  std::string names;
  for (const auto& owner : shard.owners) names += (names.empty() ? "" : ",") + owner.name;
  return names.empty() ? "-" : names;
}

void print_json(const std::vector<cluster::ShardStatus>& shards) {
  for (const auto& shard : shards) {
    bj::array owners;
    for (const auto& owner : shard.owners)
      owners.push_back(bj::object{{"name", owner.name}, {"address", owner.address}, {"since", owner.since}});
    bj::object line{{"shard", shard.shard},
                    {"owners", std::move(owners)},
                    {"accounts", shard.accounts},
                    {"outbox_unsent", shard.outbox_unsent},
                    {"retries_due", shard.retries_due},
                    {"retries_waiting", shard.retries_waiting},
                    {"lag", shard.lag()}};
    std::cout << bj::serialize(line) << '\n';
  }
}

void print_text(const std::vector<cluster::ShardStatus>& shards) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& shard : shards) {
    const std::string since = shard.owners.empty() ? "-" : shard.owners.front().since;
    const std::string address = shard.owners.empty() ? "-" : shard.owners.front().address;
    rows.push_back({std::to_string(shard.shard), owner_names(shard), address, since,
                    std::to_string(shard.accounts), std::to_string(shard.lag()),
                    std::to_string(shard.outbox_unsent), std::to_string(shard.retries_due),
                    std::to_string(shard.retries_waiting)});
  }
  print_table(std::cout,
              {"shard", "owner", "address", "since", "accounts", "lag", "outbox_unsent", "retries_due",
               "retries_waiting"},
              rows);
}

}  // namespace

int cluster_status_command(const ClusterArgs& args) {
  const std::string prefix = "vumi-dispatcher cluster status: ";
  try {
    config::LoadResult loaded = load_command_config(args.config);
    const std::string source = config_source_name(args.config);
    if (!loaded.config || has_state_error(loaded.errors)) {
      print_config_errors(std::cerr, loaded.errors, source);
      return 1;
    }
    const config::Config& config = *loaded.config;
    if (!config.cluster) {
      std::cerr << prefix << source << " has no \"cluster\" section: this dispatcher is not sharded\n";
      return 1;
    }
    std::vector<cluster::LeaseHolder> holders;
    if (config.state.backend == "postgresql")
      holders = cluster::read_lease_holders(cluster::lease_database_url(config));
    std::vector<std::string> accounts;
    for (const auto& account : config.accounts) accounts.push_back(account.key);
    auto store = open_config_state(config, store::Access::read_only);
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const auto shards = cluster::shard_status(config.cluster->shards, holders, accounts, *store, now_ms);
    if (args.json)
      print_json(shards);
    else
      print_text(shards);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << prefix << e.what() << '\n';
    return 1;
  }
}

}  // namespace vumi::cli
