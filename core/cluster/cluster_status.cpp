#include "cluster/cluster_status.hpp"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

#include "cluster/shard_leases.hpp"
#include "common/shard_hash.hpp"

namespace vumi::cluster {

std::vector<LeaseHolder> read_lease_holders(const std::string& url) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to the state database: " +
                             std::string(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  // objsubid 2: the two-int4 form of an advisory lock key. Advisory locks belong to one database,
  // and pg_locks lists every database's: another cluster's on the same server is not ours.
  const std::string sql =
      "SELECT l.objid, a.application_name, COALESCE(host(a.client_addr), 'local'), "
      "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = " +
      std::to_string(kShardLockClass) + " ORDER BY l.objid, a.backend_start";
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK)
    throw std::runtime_error("reading the shard leases (pg_locks): " +
                             std::string(PQerrorMessage(conn.get())));
  const std::string prefix = lease_application_name("");
  std::vector<LeaseHolder> holders;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    LeaseHolder holder;
    holder.shard = static_cast<std::uint32_t>(std::stoul(PQgetvalue(result.get(), row, 0)));
    holder.name = PQgetvalue(result.get(), row, 1);
    if (holder.name.starts_with(prefix)) holder.name.erase(0, prefix.size());
    holder.address = PQgetvalue(result.get(), row, 2);
    holder.since = PQgetvalue(result.get(), row, 3);
    holders.push_back(std::move(holder));
  }
  return holders;
}

std::vector<ShardStatus> shard_status(std::uint32_t shards, const std::vector<LeaseHolder>& holders,
                                      const std::vector<std::string>& accounts, store::StateStore& store,
                                      std::int64_t now_ms) {
  std::vector<ShardStatus> status(shards);
  for (std::uint32_t shard = 0; shard < shards; ++shard) status[shard].shard = shard;
  auto of = [shards](const std::string& account) { return account.empty() ? 0 : shard_of(account, shards); };
  for (const LeaseHolder& holder : holders) {
    if (holder.shard < shards) status[holder.shard].owners.push_back(holder);
  }
  for (const std::string& account : accounts) ++status[of(account)].accounts;
  for (const store::OutboxRow& row : store.outbox_pending()) ++status[of(row.account_key)].outbox_unsent;
  for (const store::PendingRetry& retry : store.pending_retries()) {
    ShardStatus& shard = status[of(retry.account_key)];
    ++shard.retries_waiting;
    if (retry.due_at_ms <= now_ms) ++shard.retries_due;
  }
  return status;
}

}  // namespace vumi::cluster
