// The fast path for a worker event's body: one pass over the text that checks it and reads the
// envelope fields without building any JSON value. It only ever accepts: whatever it cannot vouch
// for (an escape in a key or an envelope field, a surrogate escape, a number with an exponent or
// many digits, an object of many members, a limit approached, any error) makes it give up, and the
// full parser (body_parser.hpp) decides. So what is accepted, and every rejection, is the same
// either way; only the cost differs.
#pragma once

#include <optional>
#include <string_view>

#include "event/envelope_decoder.hpp"

namespace vumi::event {

// The envelope fields of a scanned body, as views into its text. The identifiers hold identifiers
// (common/identifier.hpp); an optional field that is absent or null has a null data().
struct ScannedEvent {
  std::string_view account_key;
  std::string_view conversation_key;
  std::string_view event_type;
  std::string_view conversation_type;  // optional
  std::string_view event_id;           // optional
  std::string_view timestamp;          // optional; any string
  std::string_view event_data;         // the text of the object event_data, or of content without it
};

// What an event's topic says of its body (event.<account_key>.<conversation_type>.<event_type>):
// identifiers, already checked.
struct TopicFields {
  std::string_view account_key;
  std::string_view conversation_type;
  std::string_view event_type;
};

// The fields of text when the fast path accepts it as a worker event body under limits (the size
// limit is the caller's), else nullopt: the body may still be acceptable, the full parser will say.
// Given the topic's fields, the body's account_key, event_type and (when present) conversation_type
// must equal them: a comparison instead of an identifier check, and a mismatch gives up at once.
std::optional<ScannedEvent> scan_worker_event(std::string_view text, const DecodeLimits& limits,
                                              const TopicFields* topic = nullptr);

}  // namespace vumi::event
