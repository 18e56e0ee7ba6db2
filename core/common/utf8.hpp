// Checking and mending UTF-8: stored and printed text that came from the wire may not be valid.
#pragma once

#include <string>
#include <string_view>

namespace vumi::utf8 {

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid(std::string_view text);

// text with each byte that starts no valid sequence replaced by U+FFFD (text itself when valid).
std::string replace_invalid(std::string_view text);

}  // namespace vumi::utf8
