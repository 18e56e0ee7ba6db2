// The vumi message traffic around the routed events (issue 14): transport events matched to the
// conversation that sent the message, conversations' outbound messages sent through their tags'
// pools, the pool reply to a tag no account owns, and the message ledger all three rely on.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "dispatch/counters.hpp"
#include "dispatch/outbound.hpp"
#include "dispatch/runtime.hpp"
#include "event/envelope.hpp"
#include "event/rejection.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class MessageTraffic {
 public:
  MessageTraffic(store::StateStore& store, OutboundSink& outbound, Counters& counters);

  // The account that sent message_id (its outbound ledger entry); "" when unknown or for none.
  std::string transport_event_account(std::string_view user_message_id);

  // Finds the message a transport event is about in the ledger, forwards the event on
  // conversation.<type>.<key> of the conversation that sent it, and returns the event to dispatch
  // (nullopt when the message was sent for no account); unknown_message when the ledger lacks it.
  Expected<std::optional<event::Envelope>, event::Rejection> transport_event(const Runtime& runtime,
                                                                             event::TransportEvent&& event);

  // Sends a conversation's message on outbound.<pool's transport_name> after checking that the
  // conversation and its tag belong to one account; the refusal otherwise. Never routed inbound.
  std::optional<event::Rejection> conversation_outbound(const Runtime& runtime,
                                                        const event::ConversationOutbound& message);

  // Sends the pool's reply_to_unroutable (if it has one) to a message on a tag no account owns.
  void reply_unroutable(const Runtime& runtime, const event::InboundMessage& message);

 private:
  void send(std::string_view topic, std::string_view body);

  store::StateStore& store_;
  OutboundSink& outbound_;
  Counters& counters_;
  std::string topic_;  // reused
};

}  // namespace vumi::dispatch
