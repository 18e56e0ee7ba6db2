// Why an ingest message was refused: a stable reason code plus a human message.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace vumi::event {

enum class Reason : unsigned char {
  invalid_json,          // not parseable JSON (message has line and column)
  invalid_utf8,          // body or a string is not valid UTF-8
  not_object,            // body is valid JSON but not an object
  duplicate_key,         // a key appears twice in one object
  missing_field,         // a required field is absent
  wrong_type,            // a field has the wrong JSON type
  bad_identifier,        // an identifier breaks [A-Za-z0-9_:-]{1,128}
  bad_topic,             // the topic is not one of event.* / inbound.* / command.* or malformed
  topic_mismatch,        // the topic disagrees with the body
  too_large,             // body exceeds the size limit
  too_deep,              // JSON nesting exceeds the depth limit
  string_too_long,       // a string exceeds the string length limit
  bad_frames,            // not exactly two frames, or an empty frame
  unknown_account,       // account_key not in the config
  unknown_conversation,  // conversation_type absent and not declared for the account
  unowned_tag,           // inbound message on a tag no account owns, or sent on one its account does not own
  forbidden,             // the publisher's key has no right to this topic (security.publishers)
  unknown_message,       // transport event about a message the ledger does not know
  no_tag_pool,           // a message sent on a tag whose pool has no tag_pools entry (no transport)
  count_                 // number of reasons; not a reason
};

constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::count_);

// The stable code, e.g. "missing_field".
std::string_view reason_code(Reason r);

struct Rejection {
  Reason reason;
  std::string message;  // e.g. "event_type" or "account_key \"a.b\" contains '.'"

  // "missing_field: event_type"
  std::string text() const;
};

}  // namespace vumi::event
