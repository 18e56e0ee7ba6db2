// Byte-true re-serialisation: Boost.JSON re-spells numbers (0.05 -> 5E-2) and cannot hold integers
// beyond 64 bits (2**70 becomes a double), so a message passed on is written from the bytes it
// arrived as, with only the values that changed serialised anew.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vumi::json {

// One member of a JSON object's text: its key's text (quotes and escapes included) and decoded,
// the bytes of its value (no surrounding whitespace), and the text around them, so a rewritten
// object keeps the sender's spacing (Python's json.dumps writes ", " and ": ").
struct RawMember {
  std::string_view before;  // from the end of the previous value (or the '{') to the key, ',' included
  std::string_view key_text;
  std::string key;
  std::string_view between;  // from the key to the value, ':' included
  std::string_view value_text;
};

struct RawObject {
  std::string_view open;  // leading whitespace and '{'
  std::vector<RawMember> members;
  std::string_view close;  // from the end of the last value to the '}' included
};

// The members of `object_text`, a JSON object already known to be valid JSON, in text order;
// nullopt when the text is not an object.
std::optional<RawObject> raw_object(std::string_view object_text);

// Appends `value` as JSON to out, copying from original_text (the exact text `original` was
// parsed from) every value equal to its counterpart in original (a double within 4 ulps, the
// rounding a serialise/parse round trip can add): unchanged values keep their
// spelling, and members keep the original key order, changed objects recursed into, keys the
// original lacks appended in value's order, keys value lacks left out.
void respell_into(std::string& out, const boost::json::value& value, const boost::json::value& original,
                  std::string_view original_text);

// respell_into, returning the text.
std::string respell(const boost::json::value& value, const boost::json::value& original,
                    std::string_view original_text);

}  // namespace vumi::json
