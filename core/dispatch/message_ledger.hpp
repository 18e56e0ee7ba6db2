// What the dispatcher writes to the message ledger (store::MessageLedgerEntry) and when: every user
// message it publishes to a transport (outbound) and every one it routes to a conversation
// (inbound), so transport events and conversation replies find their conversation and tag.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "event/envelope.hpp"
#include "route_index.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

inline constexpr const char* kMessageLedgerOutbound = "outbound";
inline constexpr const char* kMessageLedgerInbound = "inbound";

// Writes entry; a failure is logged (the message itself has gone out, so it is not refused).
void record_message_ledger(store::StateStore& store, const store::MessageLedgerEntry& entry);

// The ledger entry for a message a step publishes on topic (outbound.<transport> or
// conversation.<type>.<key>) while handling event, or nullopt when it is no user message (no
// string message_id). The conversation of an outbound message is helper_metadata.go's
// conversation_key (typed by go.conversation_type or the account's declaration) or else the event's.
std::optional<store::MessageLedgerEntry> ledger_entry_for_publish(std::string_view topic,
                                                                  const boost::json::object& body,
                                                                  const event::Envelope& event,
                                                                  const Account& account);

}  // namespace vumi::dispatch
