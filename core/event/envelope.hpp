// The decoded forms of the three kinds of ingest message (wire protocol v1, docs/protocol.md).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

namespace vumi::event {

// The envelope fields of a worker event decoded on the fast path (event_scan.hpp), as views the
// Envelope copies: it keeps them, and event_data's text, and builds its body only when asked.
struct EnvelopeParts {
  std::string_view account_key;
  std::string_view conversation_key;
  std::string_view conversation_type;
  std::string_view event_type;
  std::string_view event_id;
  std::string_view timestamp;   // null data(): none given, so `arrived` is written instead
  std::string_view event_data;  // the JSON text of the object, already checked
  std::chrono::system_clock::time_point arrived;
};

// A VumiApiEvent. body() is the normalised envelope object: it always holds account_key,
// conversation_key, conversation_type, event_type, event_id, timestamp (strings) and event_data
// (object), in that order, plus causation_id and depth for emitted events. The views below stay
// valid while the Envelope lives, moves included. An event decoded on the fast path builds its body
// on the first call of body() or event_data(), so one that no template, plugin or record reads
// never has one; an Envelope is used by one thread at a time.
struct Envelope {
  std::string_view account_key;
  std::string_view conversation_key;
  std::string_view conversation_type;
  std::string_view event_type;
  std::string_view event_id;
  std::uint32_t depth = 0;  // 0 from a worker, parent + 1 when emitted by a handler
  // The event_id was drawn at random on arrival (none given or derivable): a redelivery of the same
  // message cannot carry it, so the processed-message ledger does not record it.
  bool random_event_id = false;
  // The exact text event_data was parsed from, when it is a message passed on (inbound message,
  // transport event): forwarding re-spells only what changed (common/raw_json.hpp). Views the
  // ingest body, so it is valid while the dispatcher handles that message; empty otherwise.
  std::string_view raw_event_data;

  Envelope() = default;
  // Takes the built body itself (with its memory resource): no copy, whatever resource it uses.
  // The decoder points the views into it.
  explicit Envelope(boost::json::value&& normalised) : body_(std::move(normalised)), text_(body_.storage()) {}
  // Copies the parts into one string from storage; the body is built from them when first asked.
  Envelope(const EnvelopeParts& parts, boost::json::storage_ptr storage);
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

  // The normalised body (above); built on first use for an event decoded on the fast path.
  const boost::json::value& body() const {
    if (!built_) build_body();
    return body_;
  }
  // The body's event_data.
  const boost::json::object& event_data() const {
    if (!event_data_) event_data_ = &body().get_object().at("event_data").get_object();
    return *event_data_;
  }
  // The normalised body as JSON text. An event decoded on the fast path is written from its parts,
  // event_data spelt as it arrived (the same JSON as its body's); any other is its body's
  // serialisation, made once and kept (an emitted event is written for the outbox, then for the
  // run history).
  std::string json() const;
  // json() written into out, replacing what it held; out's memory is reused (the run history).
  void write_json(std::string& out) const;
  // Where the body's values are allocated (a per-message arena, or the default resource).
  const boost::json::storage_ptr& storage() const { return text_.storage(); }
  // True until the body of a fast-path event is built (for tests and benchmarks).
  bool body_pending() const { return !built_; }

 private:
  void build_body() const;

  mutable boost::json::value body_;
  mutable const boost::json::object* event_data_ = nullptr;
  mutable bool built_ = true;
  mutable std::string built_json_;    // the built body's serialisation, once asked for
  boost::json::string text_;          // the fast path's copies: event_data's text, then the fields
  std::string_view event_data_text_;  // views text_
  std::string_view timestamp_;        // views text_; null data() when arrived_ is written
  std::chrono::system_clock::time_point arrived_;
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
