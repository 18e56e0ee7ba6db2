// What --json output does with stored text that is not UTF-8 (an input that was refused for it):
// every line stays valid JSON. Human text fields get U+FFFD for each invalid byte; a dead letter's
// input is never altered: it is given as "input_base64" instead (docs/cli.md says so).
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace vumi::cli::json_output {

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view text);

// text as a JSON string, each invalid byte replaced by U+FFFD.
boost::json::value text(std::string_view text);

// Same, but null when text is empty.
boost::json::value text_or_null(std::string_view text);

// Standard base64 (RFC 4648, with padding).
std::string base64(std::string_view bytes);

}  // namespace vumi::cli::json_output
