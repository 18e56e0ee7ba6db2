#include "event/rejection.hpp"

namespace vumi::event {

std::string_view reason_code(Reason r) {
  switch (r) {
    case Reason::invalid_json:
      return "invalid_json";
    case Reason::invalid_utf8:
      return "invalid_utf8";
    case Reason::not_object:
      return "not_object";
    case Reason::duplicate_key:
      return "duplicate_key";
    case Reason::missing_field:
      return "missing_field";
    case Reason::wrong_type:
      return "wrong_type";
    case Reason::bad_identifier:
      return "bad_identifier";
    case Reason::bad_topic:
      return "bad_topic";
    case Reason::topic_mismatch:
      return "topic_mismatch";
    case Reason::too_large:
      return "too_large";
    case Reason::too_deep:
      return "too_deep";
    case Reason::string_too_long:
      return "string_too_long";
    case Reason::bad_frames:
      return "bad_frames";
    case Reason::unknown_account:
      return "unknown_account";
    case Reason::unknown_conversation:
      return "unknown_conversation";
    case Reason::unowned_tag:
      return "unowned_tag";
    case Reason::forbidden:
      return "forbidden";
    case Reason::unknown_message:
      return "unknown_message";
    case Reason::no_tag_pool:
      return "no_tag_pool";
    case Reason::count_:
      break;
  }
  return "unknown";
}

std::string Rejection::text() const {
  std::string out(reason_code(reason));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace vumi::event
