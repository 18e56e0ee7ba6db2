#include "common/identifier.hpp"

#include <array>
#include <optional>
#include <string>

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

bool split_identifiers(std::string_view text, char sep, std::span<std::string_view> out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  for (std::size_t count = 0; count < out.size(); ++count) {
    const char* const start = p;
    while (p != end && identifier_char(*p)) ++p;
    const auto length = static_cast<std::size_t>(p - start);
    if (length == 0 || length > kMaxIdentifierLength) return false;
    out[count] = {start, length};
    if (p == end) return count + 1 == out.size();
    if (*p != sep) return false;
    ++p;
  }
  return false;  // more parts than asked for
}

Expected<void> check_identifier(std::string_view s) {
  if (s.empty()) return fail(ErrorCode::invalid, "is empty");
  if (s.size() > kMaxIdentifierLength) return fail(ErrorCode::invalid, "is longer than 128 characters");
  for (char c : s) {
    if (identifier_char(c)) continue;
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      return fail(ErrorCode::invalid, std::string("contains byte 0x") + hex[u >> 4] + hex[u & 15] +
                                          " (allowed: A-Z a-z 0-9 _ : -)");
    }
    return fail(ErrorCode::invalid, std::string("contains '") + c + "' (allowed: A-Z a-z 0-9 _ : -)");
  }
  return {};
}

namespace {

// Decodes the UTF-8 sequence at s[i] (already known valid or not: invalid gives nullopt) and
// advances i past it.
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) {
    ++i;
    return b;
  }
  std::size_t length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
  if (length == 0 || b > 0xf4 || i + length > s.size()) return std::nullopt;
  char32_t cp = b & (0x7f >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  i += length;
  return cp;
}

// Unicode control characters (Cc) and white space (White_Space property).
bool control_or_space(char32_t cp) {
  if (cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0)) return true;  // C0, space, DEL, C1, NBSP
  return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

std::string code_point_text(char32_t cp) {
  static const char* hex = "0123456789ABCDEF";
  std::string text = "U+";
  for (int shift = cp > 0xffff ? 20 : 12; shift >= 0; shift -= 4) text += hex[(cp >> shift) & 15];
  return text;
}

}  // namespace

Expected<void> check_tag_name(std::string_view name) {
  if (name.empty()) return fail(ErrorCode::invalid, "is empty");
  if (name.size() > kMaxIdentifierLength) return fail(ErrorCode::invalid, "is longer than 128 bytes");
  for (std::size_t i = 0; i < name.size();) {
    const std::size_t at = i;
    auto cp = next_code_point(name, i);
    if (!cp) return fail(ErrorCode::invalid, "is not valid UTF-8 at byte " + std::to_string(at));
    if (control_or_space(*cp))
      return fail(ErrorCode::invalid, "contains " + code_point_text(*cp) + " at byte " + std::to_string(at) +
                                          " (a tag has no control characters or whitespace)");
  }
  return {};
}

Expected<void> check_tag_pool(std::string_view pool) {
  if (auto checked = check_identifier(pool); !checked) return checked;
  if (pool.find(':') != std::string_view::npos)
    return fail(ErrorCode::invalid, "contains ':' (it separates pool and tag)");
  return {};
}

Expected<void> check_tag(std::string_view tag) {
  std::size_t colon = tag.find(':');
  if (colon == std::string_view::npos)
    return fail(ErrorCode::invalid, "is not \"pool:tag\" (e.g. \"longcode:12345\")");
  if (colon == 0) return fail(ErrorCode::invalid, "has an empty pool (expected \"pool:tag\")");
  if (colon + 1 == tag.size())
    return fail(ErrorCode::invalid, "has an empty tag after the pool (expected \"pool:tag\")");
  if (auto pool = check_tag_pool(tag.substr(0, colon)); !pool)
    return fail(ErrorCode::invalid, "has pool that " + pool.error().message);
  if (auto name = check_tag_name(tag.substr(colon + 1)); !name)
    return fail(ErrorCode::invalid, "has tag that " + name.error().message);
  return {};
}

TagParts split_tag(std::string_view tag) {
  std::size_t colon = tag.find(':');
  if (colon == std::string_view::npos) return {tag, {}};
  return {tag.substr(0, colon), tag.substr(colon + 1)};
}

}  // namespace vumi
