#include "common/identifier.hpp"

#include <array>

namespace vumi {

namespace {

constexpr bool in_identifier_set(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
         c == '-';
}

// One table lookup per byte: identifiers are checked several times for every event.
constexpr auto kIdentifierChars = [] {
  std::array<bool, 256> table{};
  for (unsigned c = 0; c < 256; ++c) table[c] = in_identifier_set(static_cast<unsigned char>(c));
  return table;
}();

bool identifier_char(char c) {
  return kIdentifierChars[static_cast<unsigned char>(c)];
}

}  // namespace

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdentifierLength) return false;
  for (char c : s)
    if (!identifier_char(c)) return false;
  return true;
}

std::optional<std::string> identifier_problem(std::string_view s) {
  if (s.empty()) return "is empty";
  if (s.size() > kMaxIdentifierLength) return "is longer than 128 characters";
  for (char c : s) {
    if (identifier_char(c)) continue;
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      return std::string("contains byte 0x") + hex[u >> 4] + hex[u & 15] + " (allowed: A-Z a-z 0-9 _ : -)";
    }
    return std::string("contains '") + c + "' (allowed: A-Z a-z 0-9 _ : -)";
  }
  return std::nullopt;
}

}  // namespace vumi
