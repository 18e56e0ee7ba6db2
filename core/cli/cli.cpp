#include "cli/cli.hpp"

#include <vumi/plugin.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <tuple>

#include "cli/commands.hpp"

namespace vumi::cli {

namespace {

// -c FILE and --plugin-path DIR, shared by every command that reads a config.
// --key and --server-key, for commands that connect to the daemon's sockets.
void add_curve_options(CLI::App& cmd, CurveArgs& args) {
  auto* key = cmd.add_option_function<std::string>(
      "--key", [&args](const std::string& file) { args.key_file = file; },
      "this client's secret key file (NAME.key from keygen): connect with CURVE");
  auto* server = cmd.add_option_function<std::string>(
      "--server-key", [&args](const std::string& file) { args.server_key_file = file; },
      "the daemon's public key file (the .pub of security.secret_key_file)");
  key->needs(server);
  server->needs(key);
}

void add_config_options(CLI::App& cmd, ConfigArgs& args, bool required) {
  auto* opt = cmd.add_option_function<std::string>(
      "-c,--config", [&args](const std::string& file) { args.config_file = file; },
      required ? "operator config file (JSON, comments allowed)"
               : "operator config file (default: the embedded config/dispatcher.json)");
  if (required) opt->required();
  cmd.add_option("--plugin-path", args.plugin_path,
                 "plugin folder or file; replaces the config's plugin_path (repeatable)");
}

}  // namespace

int run_command_line(int argc, char** argv) {
  CLI::App app{"vumi-dispatcher: runs account-configured handler chains for Vumi Go events",
               "vumi-dispatcher"};
  app.set_version_flag("--version", std::string("vumi-dispatcher ") + VUMI_VERSION + ", plugin ABI " +
                                        std::to_string(VUMI_ABI_MAJOR) + "." +
                                        std::to_string(VUMI_ABI_MINOR));
  app.require_subcommand(1);

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "run the daemon (SIGTERM/SIGINT drain and exit, SIGHUP reloads)");
  add_config_options(*run_cmd, run.config, false);
  run_cmd->add_option("--log-format", run.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  run_cmd->add_option("--log-level", run.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  run_cmd->add_option("--status-interval", run.status_interval_s, "seconds between status lines (0: none)");

  ConfigArgs check;
  auto* check_cmd =
      app.add_subcommand("check", "validate a config and its plugins; exit 1 listing every error");
  add_config_options(*check_cmd, check, false);

  ConfigArgs plugins;
  bool plugins_json = false;
  auto* plugins_cmd =
      app.add_subcommand("plugins", "list plugins: file, ABI, handler types and their schemas");
  add_config_options(*plugins_cmd, plugins, false);
  plugins_cmd->add_flag("--json", plugins_json, "print JSON instead of tables");

  PublishArgs publish;
  auto* publish_cmd =
      app.add_subcommand("publish", "publish JSON envelopes, one per line, as a worker would");
  publish_cmd
      ->add_option("--connect", publish.connect,
                   "the dispatcher's ingest endpoint (repeatable: every dispatcher of a cluster)")
      ->required()
      ->allow_extra_args(false);  // one endpoint per --connect, so `--connect E file` still reads file
  publish_cmd->add_option("input", publish.input, "file of JSON lines, or - for stdin")
      ->capture_default_str();
  publish_cmd->add_option("--topic", publish.topic,
                          "topic for every message (default: derived from each body)");
  publish_cmd->add_option("--wait", publish.wait_s, "seconds to wait for the dispatcher's subscription")
      ->capture_default_str();
  publish_cmd->add_flag("--reliable", publish.reliable,
                        "send to the acknowledged ingest (ingest.reliable_bind); exit 0 only when every line "
                        "is acknowledged");
  publish_cmd
      ->add_option("--ack-timeout", publish.ack_timeout_s, "with --reliable: seconds before a line is resent")
      ->capture_default_str();
  publish_cmd->add_option("--window", publish.window, "with --reliable: lines in flight at most")
      ->capture_default_str();
  publish_cmd
      ->add_option("--timeout", publish.timeout_s,
                   "with --reliable: seconds before giving up on unacknowledged lines (exit 3)")
      ->capture_default_str();

  add_curve_options(*publish_cmd, publish.curve);

  std::string keygen_name;
  auto* keygen_cmd =
      app.add_subcommand("keygen", "write a CURVE key pair: NAME.key (secret, 0600) and NAME.pub");
  keygen_cmd->add_option("name", keygen_name, "path and name of the pair, without extension")->required();

  ListenArgs listen;
  auto* listen_cmd = app.add_subcommand("listen", "print outbound messages as JSON lines");
  listen_cmd->add_option("--connect", listen.connect, "the dispatcher's outbound endpoint")->required();
  listen_cmd->add_option("--topic", listen.topics, "topic prefix to subscribe to (repeatable; default all)");
  listen_cmd->add_option("--count", listen.count, "exit after this many messages");
  listen_cmd->add_option("--timeout", listen.timeout_s, "exit after this many seconds");
  add_curve_options(*listen_cmd, listen.curve);

  TokensArgs tokens;
  auto* tokens_cmd = app.add_subcommand("tokens", "admin API account tokens: create, list, revoke");
  add_config_options(*tokens_cmd, tokens.config, false);
  tokens_cmd->add_option("action", tokens.action, "create, list or revoke")
      ->required()
      ->check(CLI::IsMember({"create", "list", "revoke"}));
  tokens_cmd->add_option("--name", tokens.name, "token name (create, revoke)");
  tokens_cmd->add_option("--account", tokens.account, "the account the token may manage (create)");

  ExplainArgs explain;
  auto* explain_cmd = app.add_subcommand(
      "explain", "dry run: what an event would do (routes, steps, effects), doing nothing");
  add_config_options(*explain_cmd, explain.config, false);
  explain_cmd->add_option("--event", explain.event_file, "file with the event's JSON body")->required();
  NewPluginArgs new_plugin;
  auto* new_plugin_cmd = app.add_subcommand(
      "new-plugin", "create an out-of-tree plugin project: handler, schema, CMake, test, README");
  new_plugin_cmd->add_option("name", new_plugin.name, "plugin name (a-z, 0-9, _)")->required();
  new_plugin_cmd->add_option("dir", new_plugin.dir, "folder to create (default: ./NAME)");

  ClusterArgs cluster;
  auto* cluster_cmd = app.add_subcommand("cluster", "a sharded cluster of dispatchers (docs/scale-out.md)");
  cluster_cmd->require_subcommand(1);
  auto* cluster_status_cmd = cluster_cmd->add_subcommand("status", "each shard's owner and lag");
  add_config_options(*cluster_status_cmd, cluster.config, false);
  cluster_status_cmd->add_flag("--json", cluster.json, "one JSON object per shard");

  StateArgs contacts, inbox, dead;
  struct StateCmd {
    const char* name;
    const char* help;
    StateArgs* args;
  };
  for (auto& [name, help, args] : {StateCmd{"contacts", "list stored contacts", &contacts},
                                   StateCmd{"inbox", "list messages kept in account inboxes", &inbox},
                                   StateCmd{"dead-letters", "list work that failed or was refused", &dead}}) {
    auto* cmd = app.add_subcommand(name, help);
    add_config_options(*cmd, args->config, false);
    cmd->add_option("--account", args->account, "only this account");
    cmd->add_flag("--json", args->json, "one JSON object per line");
  }
  auto* dead_cmd = app.get_subcommand("dead-letters");
  dead_cmd->require_subcommand(0, 1);
  DeadLetterOpArgs replay, purge;
  for (auto [name, help, args] :
       {std::tuple{"replay", "re-submit matching dead letters to the running daemon and mark them replayed",
                   &replay},
        std::tuple{"purge", "delete matching dead letters", &purge}}) {
    auto* cmd = dead_cmd->add_subcommand(name, help);
    add_config_options(*cmd, args->config, false);
    cmd->add_option("--id", args->id, "the dead letter with this id");
    cmd->add_option("--reason", args->reason, "dead letters with this reason");
    cmd->add_option("--account", args->account, "dead letters of this account");
    cmd->add_option("--since", args->since,
                    "last seen at or after: ISO-8601 UTC time, or a duration ago (10m, 2h, 7d)");
    cmd->add_flag("--dry-run", args->dry_run, "show what would be done, change nothing");
    cmd->add_flag("--json", args->json, "one JSON object per line");
    if (args == &purge) {
      cmd->add_option("--older-than", args->older_than,
                      "last seen before: a duration ago (7d) or an ISO-8601 UTC time");
    } else {
      cmd->add_option("--connect", args->connect, "the daemon's ingest endpoint (default: the config's)");
      cmd->add_option("--wait", args->wait_s, "seconds to wait for the daemon's subscription")
          ->capture_default_str();
      add_curve_options(*cmd, args->curve);
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (*run_cmd) return run_command(run);
    if (*check_cmd) return check_command(check);
    if (*plugins_cmd) return plugins_command(plugins, plugins_json);
    if (*publish_cmd) return publish_command(publish);
    if (*listen_cmd) return listen_command(listen);
    if (*keygen_cmd) return keygen_command(keygen_name);
    if (*tokens_cmd) return tokens_command(tokens);
    if (*explain_cmd) return explain_command(explain);
    if (*new_plugin_cmd) return new_plugin_command(new_plugin);
    if (*cluster_status_cmd) return cluster_status_command(cluster);
    if (app.got_subcommand("contacts")) return contacts_command(contacts);
    if (app.got_subcommand("inbox")) return inbox_command(inbox);
    if (app.got_subcommand("dead-letters")) {
      if (dead_cmd->got_subcommand("replay")) return dead_letters_replay_command(replay);
      if (dead_cmd->got_subcommand("purge")) return dead_letters_purge_command(purge);
      return dead_letters_command(dead);
    }
  } catch (const std::exception& e) {
    std::cerr << "vumi-dispatcher: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace vumi::cli
