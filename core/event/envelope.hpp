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
  std::uint32_t depth = 0;         // 0 from a worker, parent + 1 when emitted by a handler
  bool event_id_assigned = false;  // the host made event_id up: the input carried none

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

// A VumiApiCommand (topic command.<worker_name>), forwarded unchanged.
struct Command {
  std::string worker_name;
  std::string_view body;  // the original body bytes; valid as long as the ingest frame
};

}  // namespace vumi::event
