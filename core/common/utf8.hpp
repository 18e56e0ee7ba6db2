// Checking and mending UTF-8: stored and printed text that came from the wire may not be valid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vumi::utf8 {

// Length of the well-formed UTF-8 sequence starting at text[i] (1 for ASCII), or 0 when the byte
// there starts none (an overlong form, a surrogate, past U+10FFFF, cut short). Inline: the JSON
// checks call it for every non-ASCII character.
inline std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;   // no overlongs
    if (c == 0xED) high = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid(std::string_view text);

// text with each byte that starts no valid sequence replaced by U+FFFD (text itself when valid).
std::string replace_invalid(std::string_view text);

}  // namespace vumi::utf8
