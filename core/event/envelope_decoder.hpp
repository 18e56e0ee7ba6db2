// Turns one ingest message (topic + body bytes) into an Envelope, InboundMessage or Command,
// parsing the body exactly once and validating it against wire protocol v1.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <variant>

#include "common/expected.hpp"
#include "event/envelope.hpp"
#include "event/rejection.hpp"

namespace vumi::event {

struct DecodeLimits {
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_depth = 64;
  std::size_t max_string_bytes = 64 * 1024;
};

// What the decoder needs to know about the configured accounts.
class AccountDirectory {
 public:
  virtual ~AccountDirectory() = default;
  // True when the account is configured.
  virtual bool has_account(std::string_view account_key) const = 0;
  // The declared type of a conversation of the account, or nullopt.
  virtual std::optional<std::string_view> conversation_type(std::string_view account_key,
                                                            std::string_view conversation_key) const = 0;
};

// What an accepted ingest message is, by its topic's kind.
using DecodedMessage = std::variant<Envelope, InboundMessage, Command, TransportEvent, ConversationOutbound>;
// An accepted message, or why it was refused.
using Decoded = Expected<DecodedMessage, Rejection>;

// The "pool:tag" of a user_message's helper_metadata.tag.tag = [pool, tag] (pool an identifier,
// tag a vumi tag name: common/identifier.hpp), or why it has none.
Expected<std::string, Rejection> read_message_tag(const boost::json::object& message);

// `accounts` may be null (client-side validation, e.g. the `publish` command): the account checks
// are skipped and an event without conversation_type is refused (missing_field), since there is no
// account config to look it up in. decode() and make_emitted() are const and safe to call from
// several threads at once: each thread parses with its own reused Boost.JSON parser (thread_local).
// Decoded values use the default memory resource, so they outlive the decoder and the input bytes
// (except Command::body, which views the input).
class EnvelopeDecoder {
 public:
  EnvelopeDecoder(DecodeLimits limits, const AccountDirectory* accounts);

  // Decodes one message; never throws. A Rejection says why the message was refused.
  // The decoded values allocate from storage (default: the default memory resource); a caller
  // passing an arena keeps it alive, and does not reset it, while the result lives. An event
  // without event_id gets event_id_if_absent (a fresh random id when that is empty too).
  Decoded decode(std::string_view topic, std::string_view body, boost::json::storage_ptr storage = {},
                 std::string_view event_id_if_absent = {}) const;

  // Builds the Envelope of an event a handler emitted: `event` is the plugin's object
  // (event_type, event_data, optional conversation_type/conversation_key); account, causation and
  // depth come from the parent. Validated like a worker's event; allocates from the parent's storage.
  // event_id: the new event's id (a fresh random one when empty).
  Expected<Envelope, Rejection> make_emitted(const Envelope& parent, std::string_view event_json,
                                             std::string_view event_id = {}) const;

  // Builds the synthetic inbound_message event for an account that owns the message's tag:
  // {conversation_type: "transport", conversation_key: tag, event_type: "inbound_message",
  //  event_data: <message>}. Moves the message body. The event_id is the message_id when that is an
  // identifier, else event_id_if_absent (else a fresh random id).
  Envelope make_inbound_event(std::string_view account_key, InboundMessage&& message,
                              std::string_view event_id_if_absent = {}) const;

  // Builds the event a transport event becomes for the conversation that sent the message:
  // {conversation_type, conversation_key, event_type: ack / nack / delivery_report,
  //  event_id: the TransportEvent's, event_data: <TransportEvent>}. Moves the event body.
  Envelope make_transport_event(std::string_view account_key, std::string_view conversation_type,
                                std::string_view conversation_key, TransportEvent&& event) const;

  // Rebuilds the Envelope of a normalised body this host produced earlier (a pending retry's
  // stored event, depth and causation_id kept); a Rejection when the text is not one.
  Expected<Envelope, Rejection> restore(std::string_view normalised_json) const;

  const DecodeLimits& limits() const { return limits_; }

 private:
  DecodeLimits limits_;
  const AccountDirectory* accounts_;
};

}  // namespace vumi::event
