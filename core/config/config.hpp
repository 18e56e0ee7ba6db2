// The operator config (docs/config.md): the parsed model, how to load it, and how to check it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "common/state_backends.hpp"
#include "config/names.hpp"
#include "config/template.hpp"

namespace vumi::plugin {
class PluginRegistry;
}

namespace vumi::config {

class FieldReader;

// One problem in a config, named by its JSON path ("accounts.acct1.routes[0].chain[1].handler").
struct ConfigError {
  std::string path;
  std::string message;
  std::string text() const;  // "<path>: <message>" (just message when path is empty)
};

// A value built from config, or every error found on the way (common/expected.hpp).
template <typename T>
using Validated = Expected<T, std::vector<ConfigError>>;

struct HandlerSpec {  // handlers.<name>
  std::string name;
  std::string type;
  boost::json::object options;
  std::string path;  // "handlers.<name>"
};

// One entry of a chain. Its path is step_path(account key, route, index), built when wanted: held in every
// step, paths were a tenth of the memory of 100,000 accounts (four steps each).
struct StepSpec {
  std::string_view handler;  // a HandlerSpec name, in its AccountSpec's names
  std::string_view as;       // empty when not named; in its AccountSpec's names
  Template compiled;         // config with its templates compiled (shared by equal configs)
  const boost::json::object& config() const { return compiled.config(); }  // as written
};

// "accounts.acct1.routes[0]": the path of route `index` of an account, built when wanted (a
// route holds none: with two routes each, paths were 16 MB of 100,000 accounts).
std::string route_path(std::string_view account_key, std::size_t index);
void append_route_path(std::string& out, std::string_view account_key, std::size_t index);
// "accounts.acct1.routes[0].chain[1]": the path of step `index` of an account's route `route`.
std::string step_path(std::string_view account_key, std::size_t route, std::size_t index);
// The same appended to out (a reused string allocates only to grow).
void append_step_path(std::string& out, std::string_view account_key, std::size_t route, std::size_t index);

struct RouteMatch {  // "on"; an empty string matches any value (identifiers are never empty)
  std::string_view conversation_type;  // in its AccountSpec's names: a few types recur in every account
  std::string conversation_key;        // the account's own
  std::string_view event_type;         // in its AccountSpec's names
};

// How a step that asks for another attempt is retried: the delay before attempt n+1 is
// initial_backoff_ms * 2^(n-1), at most max_backoff_ms (a plugin's hint replaces it, same cap).
struct RetryPolicy {               // routes[].retry; limits.retry is the default
  std::uint32_t max_attempts = 5;  // runs of the step in all, the first included; 1 = never retried
  std::uint32_t initial_backoff_ms = 1000;
  std::uint32_t max_backoff_ms = 60000;
};

// A route of an account; its path is route_path(account key, its position in the account's routes).
struct RouteSpec {
  RouteMatch on;
  std::vector<StepSpec> chain;
  // "retry" as written, null when absent; keys absent take limits.retry's. Shared, not copied:
  // immutable once read.
  std::shared_ptr<const boost::json::object> retry_json;
  RetryPolicy retry;    // the policy in force (limits.retry when not given)
  bool enabled = true;  // false: kept and validated, but matches no event
};

// conversation_key -> conversation_type, in key order; found by any string (std::less<>).
using Conversations = std::map<std::string, std::string, std::less<>>;

struct AccountSpec {
  std::string key;
  std::vector<HandlerSpec> handlers;  // accounts.<key>.handlers: this account's own instances
  Conversations conversations;
  std::vector<std::string> tags;  // "pool:tag"
  std::vector<RouteSpec> routes;
  std::uint64_t version = 0;  // the admin API's version of an account it manages; 0: from the file
  // What its steps' and routes' name views point into: shared by the accounts read together and
  // by copies, so it outlives every spec that views it.
  std::shared_ptr<const NameTable> names;
};

struct TagPoolSpec {  // tag_pools.<pool>: how a pool's tags reach their transport
  std::string pool;
  std::string transport_name;                      // outbound.<transport_name> carries the pool's messages
  std::optional<std::string> transport_type;       // the messages' transport_type, when given
  std::optional<std::string> reply_to_unroutable;  // reply on a tag no account owns; none when absent/null
  std::string path;                                // "tag_pools.<pool>"
};

struct Limits {  // "limits" (all optional)
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_json_depth = 64;
  std::size_t max_string_bytes = 64 * 1024;
  std::uint32_t max_emit_depth = 8;
  // Bytes of ingest messages libzmq may queue per publisher connection before TCP back-pressure
  // (applied as ZMQ_RCVHWM = this / largest message; docs/config.md).
  std::size_t max_ingest_queue_bytes = 256 * 1024 * 1024;
  RetryPolicy retry;  // routes without their own "retry"
  // Dead-letter retention, enforced in small steps off the data path; 0 disables a limit.
  std::uint64_t dead_letter_max_rows = 100000;
  std::uint64_t dead_letter_max_rows_per_account = 10000;
  std::uint64_t dead_letter_max_age_s = 30 * 24 * 3600;
};

// security.publishers.<public key>: what a worker holding that key may publish on ingest.
struct PublisherRights {
  std::string public_key;               // Z85, 40 characters
  std::string name;                     // for logs; defaults to the key's first 8 characters
  bool all_accounts = false;            // "accounts": "*"
  std::vector<std::string> accounts;    // event.<account>.*, conversation_outbound of their conversations
  bool all_commands = false;            // "commands": "*"
  std::vector<std::string> commands;    // command.<worker_name>; empty ("commands": false): none
  bool all_transports = false;          // "transports": "*"
  std::vector<std::string> transports;  // inbound.<transport>, transport_event.<transport>
};

// security.subscribers.<public key>: topic prefixes a listener holding that key may read.
struct SubscriberRights {
  std::string public_key;
  std::vector<std::string> prefixes;
};

struct SecurityConfig {                   // "security" (docs/security.md)
  std::filesystem::path secret_key_file;  // the daemon's CURVE secret key; empty: CURVE off
  std::vector<PublisherRights> publishers;
  std::vector<SubscriberRights> subscribers;
  bool allow_insecure = false;  // without a key, bind beyond loopback anyway
  bool curve() const { return !secret_key_file.empty(); }
};

// "admin": the HTTP API (docs/admin-api.md). Absent: on at the default bind; null: off.
struct AdminConfig {
  std::string bind = "127.0.0.1:7712";  // host:port; port 0 picks a free one
  bool bind_given = false;              // false: the default (a busy port is then a warning, not fatal)
  std::filesystem::path token_file;     // the operator token; empty: no operator token
  bool public_metrics = true;           // /metrics and /healthz without a token
  bool account_labels = true;           // per-account labels on plugin metrics
  std::size_t run_history = 1000;       // runs kept per account
};

// "cluster" (docs/scale-out.md): several dispatchers share one PostgreSQL state and divide the
// accounts among `shards` shards (shard = FNV-1a 64 of the account key mod shards). Absent: this
// dispatcher handles every account.
struct ClusterConfig {
  std::uint32_t shards = 1;
  std::string name;                    // this dispatcher's name (cluster status, logs); an identifier
  std::vector<std::uint32_t> owned;    // shards it takes as soon as they are free, ascending
  std::vector<std::uint32_t> standby;  // shards it takes when their owner is gone, ascending
  std::uint32_t lease_poll_ms = 1000;  // how often it tries to take a shard it wants and lacks
  std::string path = "cluster";        // for messages
};

struct Config {
  std::string source;  // the file it came from, or "<embedded>"
  std::string ingest_bind = "tcp://127.0.0.1:7710";
  std::string ingest_reliable_bind;  // ingest.reliable_bind: the acknowledged ROUTER; empty = off
  std::string outbound_bind = "tcp://127.0.0.1:7711";
  // "state": {"backend", "dir", "url"} (or the older top-level "state_dir", the folder alone).
  StateConfig state;
  std::vector<std::filesystem::path> plugin_path;  // "$ORIGIN/..." entries resolved to the binary's folder
  bool plugin_path_insecure_ok = false;            // load plugins others could have written
  SecurityConfig security;
  std::vector<HandlerSpec> handlers;   // in config order
  std::vector<AccountSpec> accounts;   // in config order
  std::vector<TagPoolSpec> tag_pools;  // in config order
  Limits limits;
  std::uint32_t status_interval_s = 60;
  std::optional<AdminConfig> admin = AdminConfig{};
  std::optional<ClusterConfig> cluster;  // absent: not sharded
  // Dispatch threads, events sharded by account (docs/workers.md); 0: the number of cores.
  std::uint32_t workers = 0;
};

// The most dispatch threads `workers` may ask for.
constexpr std::uint32_t kMaxWorkers = 64;
// The dispatch threads config asks for: `workers`, or the number of cores (at most kMaxWorkers).
std::uint32_t worker_count(const Config& config);

struct LoadResult {
  std::optional<Config> config;     // set when the structure could be read (errors may still exist)
  std::vector<ConfigError> errors;  // every error found
  bool ok() const { return config.has_value() && errors.empty(); }
};

// Parses config text (comments and trailing commas allowed) and checks its structure, types,
// identifiers and templates; reports every error found, never throws on bad input.
LoadResult parse_config(std::string_view text, std::string source);
// Reads and parses a file; a missing or unreadable file is an error naming it.
LoadResult load_config_file(const std::filesystem::path& file);

// Reads a "handlers" object (handler name -> {type, options}) at path into out.
void read_handler_specs(const boost::json::value& v, const std::string& path, std::vector<HandlerSpec>& out,
                        FieldReader& reader);

// Checks what needs the loaded plugins: handler types exist, options and step configs match the
// types' schemas, tag_router routes name declared conversations. Appends to errors.
void validate_against_plugins(const Config& config, const plugin::PluginRegistry& registry,
                              std::vector<ConfigError>& errors);
// The same checks for one account (its own handlers, its steps), handlers being the global ones.
void validate_account_against_plugins(const AccountSpec& account, const std::vector<HandlerSpec>& handlers,
                                      const plugin::PluginRegistry& registry,
                                      std::vector<ConfigError>& errors);

}  // namespace vumi::config
