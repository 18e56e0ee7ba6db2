// `vumi-dispatcher dead-letters replay|purge`: operator actions on dead letters.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/curve_args.hpp"
#include "cli/json_output.hpp"
#include "common/identifier.hpp"
#include "common/json.hpp"
#include "store/state_store.hpp"
#include "store/store_values.hpp"
#include "transport/reliable_publisher.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi::cli {

namespace {

// A time bound as the store compares it; nullopt after a message on stderr.
std::optional<std::string> time_bound(std::string_view prefix, std::string_view text,
                                      std::string_view option) {
  Expected<std::string> bound = store::time_bound(text);
  if (!bound) {
    std::cerr << prefix << option << ' ' << bound.error().message << '\n';
    return std::nullopt;
  }
  return std::move(*bound);
}

// Builds the filter from the args; false (after a message on stderr) when they are unusable.
bool make_filter(const DeadLetterOpArgs& args, std::string_view command, bool allow_older_than,
                 store::DeadLetterFilter& filter) {
  const std::string prefix = "vumi-dispatcher dead-letters " + std::string(command) + ": ";
  const bool selected = args.id || !args.reason.empty() || !args.account.empty() ||
                        (allow_older_than && !args.older_than.empty());
  if (!selected) {
    std::cerr << prefix << "say which dead letters: --id N, --reason R or --account A"
              << (allow_older_than ? ", or --older-than D" : "") << '\n';
    return false;
  }
  if (!args.account.empty()) {
    if (auto checked = check_identifier(args.account); !checked) {
      std::cerr << prefix << "--account " << json::quoted(args.account) << ' ' << checked.error().message
                << '\n';
      return false;
    }
  }
  filter.id = args.id;
  filter.reason = args.reason;
  filter.account = args.account;
  if (!args.since.empty()) {
    std::optional<std::string> since = time_bound(prefix, args.since, "--since");
    if (!since) return false;
    filter.since = std::move(*since);
  }
  if (!args.older_than.empty()) {
    std::optional<std::string> older_than = time_bound(prefix, args.older_than, "--older-than");
    if (!older_than) return false;
    filter.older_than = std::move(*older_than);
  }
  return true;
}

// Opens the config's state read-write (it must exist already); nullptr after a message.
std::unique_ptr<store::StateStore> open_state(const ConfigArgs& config, std::string_view command,
                                              std::optional<config::Config>& loaded_config) {
  const std::string prefix = "vumi-dispatcher dead-letters " + std::string(command) + ": ";
  config::LoadResult loaded = load_command_config(config);
  if (!loaded.config || has_state_error(loaded.errors)) {
    print_config_errors(std::cerr, loaded.errors, config_source_name(config));
    return nullptr;
  }
  // Refuses a missing state rather than creating an empty one.
  open_config_state(*loaded.config, store::Access::read_only);
  auto store = open_config_state(*loaded.config, store::Access::read_write);
  loaded_config = std::move(loaded.config);
  return store;
}

// Why a letter cannot be re-submitted, or empty when it can.
std::string not_replayable(const store::DeadLetter& letter) {
  if (letter.topic.empty()) return "no topic was recorded for it (recorded before replay existed)";
  if (letter.input.ends_with("...(truncated)")) return "its input was cut when it was recorded";
  if (!json_output::valid_utf8(letter.input)) return "its input is not UTF-8 text, so not a message body";
  return {};
}

void print_action(const store::DeadLetter& letter, std::string_view action, std::string_view note,
                  bool as_json) {
  if (as_json) {
    boost::json::object line{{"id", letter.id},
                             {"action", action},
                             {"reason", letter.reason},
                             {"account_key", json_output::text(letter.account_key)},
                             {"topic", json_output::text(letter.topic)},
                             {"count", letter.count}};
    if (!note.empty()) line["note"] = json_output::text(note);
    std::cout << boost::json::serialize(line) << '\n';
    return;
  }
  std::cout << action << ' ' << letter.id << " (" << letter.reason;
  if (!letter.account_key.empty()) std::cout << ", account " << letter.account_key;
  std::cout << ")";
  if (!note.empty()) std::cout << ": " << note;
  std::cout << '\n';
}

}  // namespace

int dead_letters_purge_command(const DeadLetterOpArgs& args) {
  const std::string prefix = "vumi-dispatcher dead-letters purge: ";
  try {
    store::DeadLetterFilter filter;
    if (!make_filter(args, "purge", true, filter)) return 2;
    std::optional<config::Config> config;
    auto store = open_state(args.config, "purge", config);
    if (!store) return 1;
    if (args.dry_run) {
      auto letters = store->dead_letters(filter);
      for (const auto& letter : letters) print_action(letter, "would purge", {}, args.json);
      if (!args.json) std::cout << letters.size() << " dead letter(s) would be purged (dry run)\n";
      return 0;
    }
    const std::int64_t deleted = store->dead_letters_purge(filter);
    if (!args.json) std::cout << deleted << " dead letter(s) purged\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << prefix << e.what() << '\n';
    return 1;
  }
}

int dead_letters_replay_command(const DeadLetterOpArgs& args) {
  const std::string prefix = "vumi-dispatcher dead-letters replay: ";
  try {
    store::DeadLetterFilter filter;
    if (!args.older_than.empty()) {
      std::cerr << prefix << "--older-than is for purge; replay takes --since\n";
      return 2;
    }
    if (!make_filter(args, "replay", false, filter)) return 2;
    filter.include_replayed = false;  // replayed once is replayed: never twice by accident
    std::optional<config::Config> config;
    auto store = open_state(args.config, "replay", config);
    if (!store) return 1;
    std::vector<store::DeadLetter> letters = store->dead_letters(filter);
    std::vector<const store::DeadLetter*> chosen;
    for (const auto& letter : letters) {
      const std::string why = not_replayable(letter);
      if (!why.empty()) {
        print_action(letter, "skip", why, args.json);
        continue;
      }
      chosen.push_back(&letter);
    }
    if (args.dry_run) {
      for (const auto* letter : chosen)
        print_action(*letter, "would replay",
                     letter->count > 1
                         ? "coalesced: replays the one kept sample of " + std::to_string(letter->count)
                         : std::string(),
                     args.json);
      if (!args.json) std::cout << chosen.size() << " dead letter(s) would be replayed (dry run)\n";
      return 0;
    }
    if (chosen.empty()) {
      if (!args.json) std::cout << "no dead letters to replay\n";
      return 0;
    }
    // The chain of a dead-lettered event failed, so the processed-message ledger must not call
    // its replay a duplicate: forget its key first (a crash in between only lets it run once more).
    for (const auto* letter : chosen) {
      boost::system::error_code ec;
      const boost::json::value input = boost::json::parse(letter->input, ec);
      const boost::json::object* event = ec ? nullptr : input.if_object();
      const boost::json::value* account = event ? event->if_contains("account_key") : nullptr;
      const boost::json::value* event_id = event ? event->if_contains("event_id") : nullptr;
      if (!account || !account->is_string() || !event_id || !event_id->is_string()) continue;
      const Expected<void> forgot = store->processed_forget(account->get_string(), event_id->get_string());
      if (!forgot)
        std::cerr << prefix << "dead letter " << letter->id << ": " << forgot.error().message << '\n';
    }
    // Through reliable ingest when the daemon has it: each letter is marked replayed only once the
    // dispatcher acknowledged it after its batch committed.
    if (args.connect.empty() && !config->ingest_reliable_bind.empty()) {
      zmq::context_t context(1);
      transport::ReliablePublisher publisher(context, config->ingest_reliable_bind, client_keys(args.curve));
      const std::string run = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
      transport::ReliableOptions options;
      options.deadline = std::chrono::milliseconds(static_cast<long>(args.wait_s * 1000) + 30'000);
      // One letter at a time: each answer says what became of that letter (a few ms each).
      std::size_t replayed = 0;
      for (const auto* letter : chosen) {
        const transport::ReliableProgress progress = publisher.publish(
            {{letter->topic, letter->input, "replay-" + std::to_string(letter->id) + "-" + run}}, options);
        if (progress.acknowledged != 1) {
          std::cerr << prefix << "dead letter " << letter->id << ": not acknowledged by the dispatcher at "
                    << config->ingest_reliable_bind << " within " << options.deadline.count()
                    << " ms; stopping here (" << replayed << " replayed; run the replay again)\n";
          return 1;
        }
        if (progress.duplicate == 1) {
          // Its ledger key was not forgotten (see the error above): it did not run.
          print_action(*letter, "skip", "the dispatcher had already processed this event; not replayed",
                       args.json);
          continue;
        }
        const Expected<void> marked =
            store->dead_letter_mark_replayed(letter->id, store::now_iso8601_utc_ms());
        if (!marked)
          std::cerr << prefix << "dead letter " << letter->id << " sent but " << marked.error().message
                    << '\n';
        print_action(*letter, "replayed",
                     progress.rejected == 1 ? "the dispatcher refused it again (a new dead letter says why)"
                                            : std::string(),
                     args.json);
        ++replayed;
      }
      if (!args.json)
        std::cout << replayed << " dead letter(s) replayed to " << config->ingest_reliable_bind
                  << " (reliable ingest, every one acknowledged)\n";
      return replayed == chosen.size() ? 0 : 1;
    }
    const std::string endpoint = args.connect.empty() ? config->ingest_bind : args.connect;
    zmq::context_t context(1);
    transport::WorkerPublisher publisher(context, endpoint, std::chrono::seconds(30),
                                         std::chrono::seconds(30), client_keys(args.curve));
    const auto wait = std::chrono::milliseconds(static_cast<long>(args.wait_s * 1000));
    if (!publisher.wait_for_subscriptions({"event.", "inbound."}, wait)) {
      std::cerr << prefix << "no dispatcher subscribed at " << endpoint << " within " << args.wait_s
                << " s; is it running (and is this its ingest endpoint)? Nothing was replayed.\n";
      return 1;
    }
    std::size_t replayed = 0;
    for (const auto* letter : chosen) {
      if (!publisher.send(letter->topic, letter->input)) {
        std::cerr << prefix << "dead letter " << letter->id << ": the dispatcher did not take it in time; "
                  << "stopping here (" << replayed << " replayed)\n";
        return 1;
      }
      const Expected<void> marked = store->dead_letter_mark_replayed(letter->id, store::now_iso8601_utc_ms());
      if (!marked)
        std::cerr << prefix << "dead letter " << letter->id << " sent but " << marked.error().message << '\n';
      print_action(*letter, "replayed", {}, args.json);
      ++replayed;
    }
    if (!args.json) std::cout << replayed << " dead letter(s) replayed to " << endpoint << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << prefix << e.what() << '\n';
    return 1;
  }
}

}  // namespace vumi::cli
