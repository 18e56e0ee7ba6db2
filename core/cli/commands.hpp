// One function per subcommand; each returns the exit code and never throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vumi::cli {

struct ConfigArgs {
  std::optional<std::filesystem::path> config_file;  // -c FILE; nullopt: the embedded default
  std::vector<std::filesystem::path> plugin_path;    // --plugin-path DIR (repeatable) overrides the config's
};

int check_command(const ConfigArgs& args);
int plugins_command(const ConfigArgs& args, bool json);

struct StateArgs {
  ConfigArgs config;
  std::string account;  // empty: all
  bool json = false;
};
int contacts_command(const StateArgs& args);
int inbox_command(const StateArgs& args);
int dead_letters_command(const StateArgs& args);

// --key NAME.key and --server-key DAEMON.pub: connect with CURVE (docs/security.md).
struct CurveArgs {
  std::optional<std::filesystem::path> key_file;
  std::optional<std::filesystem::path> server_key_file;
};

// `dead-letters replay|purge`: which letters (at least one selector is required).
struct DeadLetterOpArgs {
  ConfigArgs config;
  std::optional<std::int64_t> id;
  std::string reason;
  std::string account;
  std::string since;       // ISO-8601 UTC, or a duration ago: 30s, 10m, 2h, 7d
  std::string older_than;  // purge only: same forms
  bool dry_run = false;
  bool json = false;
  std::string connect;  // replay: the daemon's ingest endpoint (default: the config's)
  double wait_s = 5.0;  // replay: how long to wait for the daemon's subscription
  CurveArgs curve;      // replay: --key/--server-key when the daemon's ingest requires CURVE
};
// Re-submits the matching, not yet replayed dead letters to the running daemon and marks them.
int dead_letters_replay_command(const DeadLetterOpArgs& args);
// Deletes the matching dead letters.
int dead_letters_purge_command(const DeadLetterOpArgs& args);

struct RunArgs {
  ConfigArgs config;
  std::string log_format = "text";            // text | json
  std::string log_level = "info";             // debug | info | warn | error
  std::optional<unsigned> status_interval_s;  // overrides the config's status_interval_s
};
// The daemon: runs until SIGINT/SIGTERM (drain, exit 0); SIGHUP reloads the config.
int run_command(const RunArgs& args);

// `keygen NAME`: writes NAME.key (secret, 0600) and NAME.pub.
int keygen_command(const std::string& name);

struct PublishArgs {
  CurveArgs curve;
  // Endpoints of the dispatchers' ingest sockets: one, or every dispatcher of a cluster.
  std::vector<std::string> connect;
  std::string input = "-";           // file, or "-" for stdin
  std::optional<std::string> topic;  // overrides the topic derived from each body
  double wait_s = 5.0;               // how long to wait for the dispatcher's subscription
  bool reliable = false;             // --reliable: a DEALER to ingest.reliable_bind, every line acknowledged
  double ack_timeout_s = 5.0;        // --ack-timeout: resend a line not acknowledged within this
  std::size_t window = 1000;         // --window: lines sent and not yet acknowledged, at most
  double timeout_s = 300.0;          // --timeout: give up (exit 3) if lines are still unacknowledged
};
int publish_command(const PublishArgs& args);

struct ListenArgs {
  CurveArgs curve;
  std::string connect;                 // endpoint of the dispatcher's outbound socket
  std::vector<std::string> topics;     // prefixes; empty = everything
  std::optional<unsigned long> count;  // exit after N messages
  std::optional<double> timeout_s;     // exit (code 0 if count reached, else 3) after S seconds
};
int listen_command(const ListenArgs& args);

struct TokensArgs {
  ConfigArgs config;
  std::string action;   // create | list | revoke
  std::string name;     // the token's name (create, revoke)
  std::string account;  // the account it may manage (create)
};
int tokens_command(const TokensArgs& args);

struct ExplainArgs {
  ConfigArgs config;
  std::filesystem::path event_file;  // a VumiApiEvent body (JSON)
};
// Dry run of one event: prints the report as JSON; exit 1 when the event is refused.
int explain_command(const ExplainArgs& args);
struct ClusterArgs {
  ConfigArgs config;
  bool json = false;
};
// `cluster status`: each shard's owner (from PostgreSQL's advisory locks) and lag; exit 1 when the
// config has no cluster section or the state cannot be read.
int cluster_status_command(const ClusterArgs& args);

struct NewPluginArgs {
  std::string name;           // the plugin and its one handler type
  std::filesystem::path dir;  // empty: ./<name>
};
// Writes a complete out-of-tree plugin project (sdk/template/) into dir.
int new_plugin_command(const NewPluginArgs& args);

}  // namespace vumi::cli
