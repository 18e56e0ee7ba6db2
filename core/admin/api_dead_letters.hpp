// /api/accounts/{key}/dead-letters: an account's dead letters listed with filters, and replayed
// inside the daemon (the same semantics as `vumi-dispatcher dead-letters replay`). docs/admin-api.md.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "admin/http_server.hpp"
#include "daemon/daemon.hpp"

namespace vumi::admin {

// A query parameter's decoded value, or nullopt when absent.
using QueryParam = std::function<std::optional<std::string>(std::string_view name)>;

// At most this many letters are replayed by one request; the rest are skipped, saying so.
inline constexpr std::size_t kMaxReplayPerRequest = 100;

// GET .../dead-letters?reason=R&since=T&limit=N: {"key", "dead_letters": [...]}, lowest ids first.
HttpResponse list_dead_letters(transport::DaemonControl& daemon, const std::string& key,
                               const QueryParam& param);

// POST .../dead-letters/replay with {"ids": [...]} or {"reason": R, "since": T}, optionally
// "dry_run": true: {"replayed": [ids], "skipped": [{"id", "why"}]}. Each replayed letter's event
// key is forgotten by the ledger, the letter is run through dispatch as if it had just arrived
// and marked replayed, all in one batch of its own. caller names the token, for the letters'
// source should they fail again.
HttpResponse replay_dead_letters(transport::DaemonControl& daemon, const std::string& key,
                                 const boost::json::value& body, const std::string& caller);

}  // namespace vumi::admin
