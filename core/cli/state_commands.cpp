// `vumi-dispatcher contacts|inbox|dead-letters -c FILE [--account KEY] [--json]`: what the state holds.
#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/json_output.hpp"
#include "cli/text_table.hpp"
#include "common/identifier.hpp"
#include "common/json.hpp"
#include "store/state_store.hpp"

namespace vumi::cli {

namespace bj = boost::json;

namespace {

constexpr std::size_t kExtraWidth = 40;    // contacts: extra
constexpr std::size_t kContentWidth = 60;  // inbox: content

// Length of the valid UTF-8 sequence at text[i], or 0.
std::size_t utf8_sequence_at(std::string_view text, std::size_t i) {
  for (std::size_t n = 2; n <= 4 && i + n <= text.size(); ++n)
    if (json_output::valid_utf8(text.substr(i, n))) return n;
  return 0;
}

// One line per row: control characters become visible escapes, bytes that are not UTF-8 show as
// \xNN (never raw on a terminal); empty cells show "-".
std::string cell(std::string_view text, std::size_t max_width = 0) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (max_width != 0 && width >= max_width) {
      out += "…";
      return out;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_at(text, i);
      if (n == 0) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
        width += 4;
        ++i;
      } else {
        out.append(text.substr(i, n));
        ++width;
        i += n;
      }
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t' || c == '\r' || c < 0x20 || c == 0x7F) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
    ++width;
    ++i;
  }
  return out.empty() ? "-" : out;
}

// A string member shown as itself; anything else as compact JSON; absent or null as empty.
std::string member_text(const bj::value& message, std::string_view key) {
  const bj::object* object = message.if_object();
  const bj::value* value = object != nullptr ? object->if_contains(key) : nullptr;
  if (value == nullptr || value->is_null()) return {};
  if (const bj::string* text = value->if_string()) return std::string(*text);
  return json::to_text(*value);
}

void print_contacts(const std::vector<store::Contact>& contacts, bool as_json) {
  if (as_json) {
    for (const auto& contact : contacts) {
      bj::object line{{"account_key", contact.account_key}};
      for (auto& field : contact.to_json()) line[field.key()] = field.value();
      std::cout << bj::serialize(line) << '\n';
    }
    return;
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(contacts.size());
  for (const auto& c : contacts) {
    rows.push_back({cell(c.account_key), cell(c.contact_key), cell(c.msisdn), cell(c.name), cell(c.surname),
                    cell(c.extra.empty() ? "" : bj::serialize(c.extra), kExtraWidth), cell(c.updated_at)});
  }
  print_table(std::cout, {"account", "contact_key", "msisdn", "name", "surname", "extra", "updated_at"},
              rows);
}

void print_inbox(const std::vector<store::InboxEntry>& entries, bool as_json) {
  if (as_json) {
    for (const auto& entry : entries) {
      bj::object line{{"id", entry.id},
                      {"account_key", entry.account_key},
                      {"received_at", entry.received_at},
                      {"message", entry.message}};
      std::cout << bj::serialize(line) << '\n';
    }
    return;
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(entries.size());
  for (const auto& e : entries) {
    rows.push_back({std::to_string(e.id), cell(e.account_key), cell(e.received_at),
                    cell(member_text(e.message, "from_addr")), cell(member_text(e.message, "to_addr")),
                    cell(member_text(e.message, "content"), kContentWidth)});
  }
  print_table(std::cout, {"id", "account", "received_at", "from_addr", "to_addr", "content"}, rows);
}

void print_dead_letters(const std::vector<store::DeadLetter>& letters, bool as_json) {
  if (as_json) {
    // Every line is valid JSON whatever the stored bytes (see cli/json_output.hpp).
    for (const auto& letter : letters) {
      bj::object line{{"id", letter.id},
                      {"created_at", letter.created_at},
                      {"last_seen_at", json_output::text_or_null(letter.last_seen_at)},
                      {"count", letter.count},
                      {"account_key", json_output::text_or_null(letter.account_key)},
                      {"reason", json_output::text(letter.reason)},
                      {"message", json_output::text(letter.message)},
                      {"route", json_output::text_or_null(letter.route)},
                      {"step", json_output::text_or_null(letter.step)},
                      {"source", json_output::text_or_null(letter.source)},
                      {"topic", json_output::text_or_null(letter.topic)},
                      {"replayed_at", json_output::text_or_null(letter.replayed_at)}};
      if (!letter.attempts.empty()) {
        bj::value attempts;
        json::ParseError error;
        line["attempts"] =
            json::parse(letter.attempts, {}, attempts, error) ? attempts : json_output::text(letter.attempts);
      }
      if (json_output::valid_utf8(letter.input)) {
        line["input"] = letter.input;
      } else {
        line["input"] = nullptr;
        line["input_base64"] = json_output::base64(letter.input);
      }
      std::cout << bj::serialize(line) << '\n';
    }
    return;
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(letters.size());
  for (const auto& d : letters) {
    // The message goes last and whole: it is the answer to "why".
    rows.push_back({std::to_string(d.id), cell(d.created_at), std::to_string(d.count), cell(d.account_key),
                    cell(d.reason), cell(d.route), cell(d.step),
                    cell(d.replayed_at.empty() ? "" : "replayed"), cell(d.message)});
  }
  print_table(std::cout,
              {"id", "created_at", "count", "account", "reason", "route", "step", "state", "message"}, rows);
}

// Shared shape of the three commands: find the state_dir, open it read-only, list, print.
// `list` returns how many items it printed; `noun` names them in messages ("contacts").
int inspect_state(const StateArgs& args, std::string_view command, std::string_view noun,
                  const std::function<std::size_t(store::StateStore&)>& list) {
  const std::string prefix = "vumi-dispatcher " + std::string(command) + ": ";
  try {
    if (!args.account.empty()) {
      if (auto checked = check_identifier(args.account); !checked) {
        std::cerr << prefix << "--account " << json::quoted(args.account) << ' ' << checked.error().message
                  << '\n';
        return 1;
      }
    }
    config::LoadResult loaded = load_command_config(args.config);
    const std::string source = config_source_name(args.config);
    if (!loaded.config || has_state_error(loaded.errors)) {
      print_config_errors(std::cerr, loaded.errors, source);
      return 1;
    }
    if (!loaded.errors.empty()) {
      // The state is still worth seeing when only other parts of the config are wrong.
      std::cerr << prefix << "note: " << source << " has " << loaded.errors.size()
                << " error(s) elsewhere (see `vumi-dispatcher check`)\n";
    }
    auto store = open_config_state(*loaded.config, store::Access::read_only);
    const std::size_t shown = list(*store);
    if (shown == 0 && !args.json) {
      std::cout << "no " << noun;
      if (!args.account.empty()) std::cout << " for account " << args.account;
      std::cout << '\n';
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << prefix << e.what() << '\n';
    return 1;
  }
}

}  // namespace

int contacts_command(const StateArgs& args) {
  return inspect_state(args, "contacts", "contacts", [&](store::StateStore& store) {
    auto contacts = store.contacts(args.account);
    if (!contacts.empty()) print_contacts(contacts, args.json);
    return contacts.size();
  });
}

int inbox_command(const StateArgs& args) {
  return inspect_state(args, "inbox", "inbox entries", [&](store::StateStore& store) {
    auto entries = store.inbox(args.account);
    if (!entries.empty()) print_inbox(entries, args.json);
    return entries.size();
  });
}

int dead_letters_command(const StateArgs& args) {
  return inspect_state(args, "dead-letters", "dead letters", [&](store::StateStore& store) {
    auto letters = store.dead_letters(args.account);
    if (!letters.empty()) print_dead_letters(letters, args.json);
    return letters.size();
  });
}

}  // namespace vumi::cli
