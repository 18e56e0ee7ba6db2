// The decoded forms of the three kinds of ingest message (wire protocol v1, docs/protocol.md).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

namespace vumi::event {

// A VumiApiEvent. `body` is the normalised envelope object: it always holds account_key,
// conversation_key, conversation_type, event_type, event_data (object), event_id and timestamp
// (strings), plus causation_id and depth for emitted events. The views below point into `body`,
// which is never modified after decoding (moving an Envelope keeps them valid).
struct Envelope {
  boost::json::value body;
  std::string_view account_key;
  std::string_view conversation_key;
  std::string_view conversation_type;
  std::string_view event_type;
  std::string_view event_id;
  const boost::json::object* event_data = nullptr;
  std::uint32_t depth = 0;  // 0 from a worker, parent + 1 when emitted by a handler
  // The event_id was drawn at random on arrival (none given or derivable): a redelivery of the same
  // message cannot carry it, so the processed-message ledger does not record it.
  bool random_event_id = false;
  // The exact text event_data was parsed from, when it is a message passed on (inbound message,
  // transport event): forwarding re-spells only what changed (common/raw_json.hpp). Views the
  // ingest body, so it is valid while the dispatcher handles that message; empty otherwise.
  std::string_view raw_event_data;

  Envelope() = default;
  // Takes the value itself (with its memory resource): no copy, whatever resource it uses.
  explicit Envelope(boost::json::value&& normalised) : body(std::move(normalised)) {}
  Envelope(Envelope&&) noexcept = default;
  // Re-constructs rather than assigns: assigning a json::value from another memory resource
  // copies it, which would leave the views pointing into the source.
  Envelope& operator=(Envelope&& other) noexcept {
    if (this != &other) {
      this->~Envelope();
      new (this) Envelope(std::move(other));
    }
    return *this;
  }
  Envelope(const Envelope&) = delete;
  Envelope& operator=(const Envelope&) = delete;
};

// A Vumi user_message from a transport (topic inbound.<transport_name>).
struct InboundMessage {
  boost::json::value body;          // the message object as received
  std::string_view transport_name;  // from the topic
  std::string tag;                  // "pool:tag" from helper_metadata.tag.tag
  std::string_view raw;             // the body text as received (views the ingest frame)

  InboundMessage() = default;
  explicit InboundMessage(boost::json::value&& message) : body(std::move(message)) {}
  InboundMessage(InboundMessage&&) noexcept = default;
  InboundMessage& operator=(InboundMessage&& other) noexcept {  // see Envelope
    if (this != &other) {
      this->~InboundMessage();
      new (this) InboundMessage(std::move(other));
    }
    return *this;
  }
};

// A vumi TransportEvent (topic transport_event.<transport_name>): ack, nack or delivery_report
// about the outbound message user_message_id.
struct TransportEvent {
  boost::json::value body;           // the event object as received
  std::string_view raw;              // the body text as received (views the ingest frame)
  std::string transport_name;        // from the topic
  std::string_view user_message_id;  // views body
  std::string_view event_type;       // "ack", "nack" or "delivery_report"; views body

  TransportEvent() = default;
  explicit TransportEvent(boost::json::value&& event) : body(std::move(event)) {}
  TransportEvent(TransportEvent&&) noexcept = default;
  TransportEvent& operator=(TransportEvent&& other) noexcept {  // see Envelope
    if (this != &other) {
      this->~TransportEvent();
      new (this) TransportEvent(std::move(other));
    }
    return *this;
  }
};

// A user_message a conversation worker sends (topic
// conversation_outbound.<conversation_type>.<conversation_key>): a reply or a new message.
struct ConversationOutbound {
  boost::json::value body;  // the message object as received
  std::string_view raw;     // the body text as received (views the ingest frame)
  std::string conversation_type;
  std::string conversation_key;

  ConversationOutbound() = default;
  explicit ConversationOutbound(boost::json::value&& message) : body(std::move(message)) {}
  ConversationOutbound(ConversationOutbound&&) noexcept = default;
  ConversationOutbound& operator=(ConversationOutbound&& other) noexcept {  // see Envelope
    if (this != &other) {
      this->~ConversationOutbound();
      new (this) ConversationOutbound(std::move(other));
    }
    return *this;
  }
};

// A VumiApiCommand (topic command.<worker_name>), forwarded unchanged.
struct Command {
  std::string worker_name;
  std::string_view body;  // the original body bytes; valid as long as the ingest frame
};

}  // namespace vumi::event
