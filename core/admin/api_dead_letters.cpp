#include "admin/api_dead_letters.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <vector>

#include "admin/http_json.hpp"
#include "common/json.hpp"
#include "store/state_store.hpp"
#include "store/store_values.hpp"

namespace vumi::admin {

namespace bj = boost::json;
namespace http = boost::beast::http;
using http::status;

namespace {

// Letters a filtered replay looks at, at most (the replayable ones among them up to the per-request limit).
constexpr std::int64_t kMaxReplayCandidates = 1000;
constexpr std::size_t kMaxIds = 1000;
constexpr std::int64_t kMaxListLimit = 10000;

HttpResponse error(status code, const std::string& message, const std::string& path = "") {
  return error_response(code, message, path);
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Text as a JSON string; bytes that are not UTF-8 become U+FFFD (as `dead-letters --json` does).
bj::value text(std::string_view s) {
  if (valid_utf8(s)) return bj::string(s);
  std::string quoted;
  json::append_quoted(quoted, s);
  return bj::parse(quoted);
}

bj::value letter_json(const store::DeadLetter& letter) {
  bj::object out{
      {"id", letter.id},
      {"created_at", letter.created_at},
      {"last_seen_at", letter.last_seen_at.empty() ? letter.created_at : letter.last_seen_at},
      {"count", letter.count},
      {"reason", letter.reason},
      {"message", text(letter.message)},
      {"route", letter.route},
      {"step", letter.step},
      {"source", text(letter.source)},
      {"topic", text(letter.topic)},
      {"input", text(letter.input)},
      {"replayed_at", letter.replayed_at.empty() ? bj::value(nullptr) : bj::value(letter.replayed_at)}};
  if (!letter.attempts.empty()) {
    boost::system::error_code ec;
    bj::value attempts = bj::parse(letter.attempts, ec);
    out["attempts"] = ec ? text(letter.attempts) : attempts;
  }
  return out;
}

// Why a letter cannot be replayed, or empty when it can (the CLI's rules).
std::string not_replayable(const store::DeadLetter& letter) {
  if (!letter.replayed_at.empty()) return "already replayed at " + letter.replayed_at;
  if (letter.topic.empty()) return "no topic was recorded for it (recorded before replay existed)";
  if (letter.input.ends_with("...(truncated)")) return "its input was cut when it was recorded";
  if (!valid_utf8(letter.input)) return "its input is not UTF-8 text, so not a message body";
  return {};
}

// The event's ledger key (account_key, event_id) from a letter's input, when it has one.
std::optional<std::pair<std::string, std::string>> ledger_key(std::string_view input) {
  boost::system::error_code ec;
  const bj::value parsed = bj::parse(input, ec);
  const bj::object* event = ec ? nullptr : parsed.if_object();
  const bj::value* account = event ? event->if_contains("account_key") : nullptr;
  const bj::value* event_id = event ? event->if_contains("event_id") : nullptr;
  if (!account || !account->is_string() || !event_id || !event_id->is_string()) return std::nullopt;
  return std::pair{std::string(account->get_string()), std::string(event_id->get_string())};
}

}  // namespace

HttpResponse list_dead_letters(transport::DaemonControl& daemon, const std::string& key,
                               const QueryParam& param) {
  store::DeadLetterFilter filter;
  filter.account = key;
  if (auto reason = param("reason")) filter.reason = *reason;
  if (auto since = param("since")) {
    Expected<std::string> bound = store::time_bound(*since);
    if (!bound) return error(status::bad_request, "since " + bound.error().message, "?since");
    filter.since = std::move(*bound);
  }
  if (auto n = param("limit")) {
    if (n->empty() || n->size() > 6 || n->find_first_not_of("0123456789") != std::string::npos || *n == "0")
      return error(status::bad_request, "limit must be a number from 1 to " + std::to_string(kMaxListLimit),
                   "?limit");
    filter.limit = std::min<std::int64_t>(std::stoll(*n), kMaxListLimit);
  } else {
    filter.limit = kMaxListLimit;
  }
  bj::array list;
  for (const auto& letter : daemon.store().dead_letters(filter)) list.push_back(letter_json(letter));
  return json_response(status::ok, bj::object{{"key", key}, {"dead_letters", std::move(list)}});
}

HttpResponse replay_dead_letters(transport::DaemonControl& daemon, const std::string& key,
                                 const bj::value& body, const std::string& caller) {
  const char* expected =
      "expected {\"ids\": [N, ...]} or {\"reason\": R, \"since\": T}, with optional \"dry_run\": true";
  const bj::object* request = body.if_object();
  if (!request) return error(status::unprocessable_entity, expected);
  for (const auto& [k, v] : *request)
    if (k != "ids" && k != "reason" && k != "since" && k != "dry_run")
      return error(status::unprocessable_entity, "unknown key (allowed: ids, reason, since, dry_run)",
                   "/" + std::string(k));
  bool dry_run = false;
  if (const bj::value* flag = request->if_contains("dry_run")) {
    if (!flag->is_bool()) return error(status::unprocessable_entity, "expected true or false", "/dry_run");
    dry_run = flag->get_bool();
  }
  const bj::value* ids = request->if_contains("ids");
  const bj::value* reason = request->if_contains("reason");
  const bj::value* since = request->if_contains("since");
  if (ids && (reason || since))
    return error(status::unprocessable_entity, "give either \"ids\" or \"reason\"/\"since\", not both",
                 "/ids");
  if (!ids && !reason && !since) return error(status::unprocessable_entity, expected);

  store::StateStore& store = daemon.store();
  std::vector<store::DeadLetter> candidates;
  bj::array skipped;
  auto skip = [&](std::int64_t id, const std::string& why) {
    skipped.push_back(bj::object{{"id", id}, {"why", why}});
  };
  if (ids) {
    if (!ids->is_array() || ids->get_array().empty() || ids->get_array().size() > kMaxIds)
      return error(status::unprocessable_entity,
                   "expected an array of 1 to " + std::to_string(kMaxIds) + " dead letter ids", "/ids");
    std::set<std::int64_t> seen;
    for (std::size_t i = 0; i < ids->get_array().size(); ++i) {
      const bj::value& id = ids->get_array()[i];
      if (!id.is_int64() || id.get_int64() < 1)
        return error(status::unprocessable_entity, "expected a dead letter id (a number >= 1)",
                     "/ids/" + std::to_string(i));
      if (!seen.insert(id.get_int64()).second) continue;
      store::DeadLetterFilter filter;
      filter.id = id.get_int64();
      filter.account = key;
      auto found = store.dead_letters(filter);
      if (found.empty())
        skip(id.get_int64(),
             "no dead letter " + std::to_string(id.get_int64()) + " in account \"" + key + "\"");
      else
        candidates.push_back(std::move(found.front()));
    }
  } else {
    store::DeadLetterFilter filter;
    filter.account = key;
    filter.include_replayed = false;  // replayed once is replayed: never twice by accident
    filter.limit = kMaxReplayCandidates;
    if (reason) {
      if (!reason->is_string() || reason->get_string().empty())
        return error(status::unprocessable_entity, "expected a reason code such as \"step_failed\"",
                     "/reason");
      filter.reason = std::string(reason->get_string());
    }
    if (since) {
      if (!since->is_string())
        return error(status::unprocessable_entity, "expected a time or duration", "/since");
      Expected<std::string> bound = store::time_bound(since->get_string());
      if (!bound) return error(status::unprocessable_entity, bound.error().message, "/since");
      filter.since = std::move(*bound);
    }
    candidates = store.dead_letters(filter);
  }

  std::vector<const store::DeadLetter*> chosen;
  for (const auto& letter : candidates) {
    if (std::string why = not_replayable(letter); !why.empty()) {
      skip(letter.id, why);
    } else if (chosen.size() >= kMaxReplayPerRequest) {
      skip(letter.id, "over the limit of " + std::to_string(kMaxReplayPerRequest) +
                          " replays per request: send the request again");
    } else {
      chosen.push_back(&letter);
    }
  }

  bj::array replayed;
  if (dry_run || chosen.empty()) {
    for (const auto* letter : chosen) replayed.push_back(letter->id);
    return json_response(status::ok,
                         bj::object{{"replayed", std::move(replayed)}, {"skipped", std::move(skipped)}});
  }

  // One batch: the ledger forgets each event, it runs as if it had just arrived, the letter is
  // marked; all commit together, and what the chains send leaves after the commit.
  const bool ran =
      daemon.run_in_batch([&](store::StateStore& state, const transport::DaemonControl::Resubmit& resubmit) {
        const std::string now = store::now_iso8601_utc_ms();
        for (const auto* letter : chosen) {
          if (auto ledger = ledger_key(letter->input)) {
            const Expected<void> forgot = state.processed_forget(ledger->first, ledger->second);
            if (!forgot) {
              skip(letter->id, "the ledger could not forget its event: " + forgot.error().message);
              continue;
            }
          }
          const auto outcome = resubmit(
              letter->topic, letter->input,
              "admin API replay of dead letter " + std::to_string(letter->id) + " (token " + caller + ")");
          if (outcome == dispatch::HandleOutcome::duplicate) {
            skip(letter->id, "the dispatcher had already processed this event; not replayed");
            continue;
          }
          const Expected<void> marked = state.dead_letter_mark_replayed(letter->id, now);
          if (!marked)
            spdlog::error("admin: dead letter {} replayed but not marked: {}", letter->id,
                          marked.error().message);
          replayed.push_back(letter->id);
        }
      });
  if (!ran)
    return error(
        status::service_unavailable,
        "the state store is recovering from a failed commit; nothing was replayed, try again shortly");
  if (daemon.depths().ingest_held > 0)
    return error(status::service_unavailable,
                 "the replay's batch could not commit (the state store is failing); nothing was replayed, "
                 "try again shortly");
  spdlog::info("admin: token {} replayed {} dead letter(s) of account {}", caller, replayed.size(), key);
  return json_response(status::ok,
                       bj::object{{"replayed", std::move(replayed)}, {"skipped", std::move(skipped)}});
}

}  // namespace vumi::admin
