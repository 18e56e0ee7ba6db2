// What `vumi-dispatcher cluster status` shows (docs/scale-out.md): each shard's owner, read from
// the advisory locks PostgreSQL holds for it, and its lag, read from the shared store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/state_store.hpp"

namespace vumi::cluster {

// A dispatcher holding a shard's lease now.
struct LeaseHolder {
  std::uint32_t shard = 0;
  std::string name;     // its cluster.name (from the lease connection's application_name)
  std::string address;  // the client address PostgreSQL sees ("local" for a Unix socket)
  std::string since;    // when its lease connection was opened (UTC)
};

struct ShardStatus {
  std::uint32_t shard = 0;
  std::vector<LeaseHolder> owners;    // one when healthy; none while the shard waits for a standby
  std::uint64_t accounts = 0;         // configured accounts in the shard
  std::uint64_t outbox_unsent = 0;    // outbox rows of its accounts not yet confirmed sent
  std::uint64_t retries_due = 0;      // pending retries of its accounts whose time has come
  std::uint64_t retries_waiting = 0;  // every pending retry of its accounts
  // Work that should have been done and is not: outbox_unsent + retries_due.
  std::uint64_t lag() const { return outbox_unsent + retries_due; }
};

// Every shard lease held in the database at url (pg_locks joined with pg_stat_activity); throws
// std::runtime_error naming the database and why.
std::vector<LeaseHolder> read_lease_holders(const std::string& url);

// One entry per shard: holders, the accounts hashed to it, and its outbox rows and retries as
// store holds them at now_ms (Unix ms). Rows of no account count for shard 0. Throws StoreError.
std::vector<ShardStatus> shard_status(std::uint32_t shards, const std::vector<LeaseHolder>& holders,
                                      const std::vector<std::string>& accounts, store::StateStore& store,
                                      std::int64_t now_ms);

}  // namespace vumi::cluster
