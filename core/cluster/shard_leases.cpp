#include "cluster/shard_leases.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace vumi::cluster {

namespace {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Opens a connection for leases; null (the reason logged, at most once until it works) on failure.
Connection connect(const LeaseOptions& options, bool& logged_failure) {
  // Keepalives and a send timeout bound how long a dead network keeps a held lock unnoticed here.
  const char* keys[] = {"dbname",
                        "application_name",
                        "connect_timeout",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        nullptr};
  const std::string application = lease_application_name(options.name);
  const char* values[] = {options.url.c_str(), application.c_str(), "5", "5", "2", "3", "10000", nullptr};
  Connection conn(PQconnectdbParams(keys, values, 1), &PQfinish);
  if (conn && PQstatus(conn.get()) == CONNECTION_OK) {
    if (logged_failure) spdlog::info("cluster: lease connection to the state database is back");
    logged_failure = false;
    return conn;
  }
  if (!logged_failure)
    spdlog::error(
        "cluster: cannot connect to the state database for shard leases: {}; trying again every {} ms",
        conn ? PQerrorMessage(conn.get()) : "out of memory", options.poll.count());
  logged_failure = true;
  return {nullptr, &PQfinish};
}

// One round trip: tries each shard of to_try and adds those taken to held. False when the
// connection failed (every lock of the session is then gone).
bool try_shards(PGconn* conn, const std::vector<std::uint32_t>& to_try, std::vector<std::uint32_t>& held) {
  std::string sql = "SELECT 1";  // still proves the session (and so its locks) alive
  if (!to_try.empty()) {
    std::string list;
    for (std::uint32_t shard : to_try) list += (list.empty() ? "" : ",") + std::to_string(shard);
    sql = "SELECT s, pg_try_advisory_lock(" + std::to_string(kShardLockClass) + ", s) FROM unnest(ARRAY[" +
          list + "]::int[]) AS s";
  }
  Result result(PQexec(conn, sql.c_str()), &PQclear);
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    spdlog::error("cluster: shard lease query failed: {}", PQerrorMessage(conn));
    return false;
  }
  if (to_try.empty()) return true;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    if (std::string_view(PQgetvalue(result.get(), row, 1)) != "t") continue;
    held.push_back(static_cast<std::uint32_t>(std::stoul(PQgetvalue(result.get(), row, 0))));
  }
  std::sort(held.begin(), held.end());
  return true;
}

}  // namespace

std::string lease_database_url(const config::Config& config) {
  return config.state.url;
}

std::string lease_application_name(const std::string& name) {
  return "vumi-dispatcher:" + name;
}

ShardLeases::ShardLeases(LeaseOptions options, OnChange on_change)
    : options_(std::move(options)), on_change_(std::move(on_change)) {}

ShardLeases::~ShardLeases() {
  stop();
}

void ShardLeases::start() {
  thread_ = std::thread([this] { run(); });
}

void ShardLeases::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ShardLeases::run() {
  const auto started = std::chrono::steady_clock::now();
  Connection conn(nullptr, &PQfinish);
  std::vector<std::uint32_t> held;
  bool logged_failure = false;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (!conn) conn = connect(options_, logged_failure);
    if (conn) {
      std::vector<std::uint32_t> wanted = options_.owned;
      if (std::chrono::steady_clock::now() - started >= options_.standby_delay)
        wanted.insert(wanted.end(), options_.standby.begin(), options_.standby.end());
      std::vector<std::uint32_t> to_try;
      for (std::uint32_t shard : wanted) {
        if (!std::binary_search(held.begin(), held.end(), shard)) to_try.push_back(shard);
      }
      std::vector<std::uint32_t> now_held = held;
      if (!try_shards(conn.get(), to_try, now_held)) {
        conn.reset();  // the server ends the session and releases its locks
        now_held.clear();
      }
      if (now_held != held) {
        held = std::move(now_held);
        on_change_(held);
      }
    } else if (!held.empty()) {
      held.clear();
      on_change_(held);
    }
    lock.lock();
    wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
  }
  lock.unlock();
  conn.reset();  // releases every lock before stop() returns
}

}  // namespace vumi::cluster
