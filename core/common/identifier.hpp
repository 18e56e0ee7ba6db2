// Identifier rules of the wire protocol: [A-Za-z0-9_:-]{1,128}.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "common/expected.hpp"

namespace vumi {

constexpr std::size_t kMaxIdentifierLength = 128;

// True when s is a valid identifier.
bool is_identifier(std::string_view s);

// Splits text at each sep into out, when there are exactly out.size() parts and every one is an
// identifier: one pass, for the common case; false otherwise (out is then unspecified).
bool split_identifiers(std::string_view text, char sep, std::span<std::string_view> out);

// Success when s is an identifier; otherwise ErrorCode::invalid with why it is not ("is empty",
// "contains '.' (allowed: ...)", "is longer than 128 characters"), worded to follow the value.
Expected<void> check_identifier(std::string_view s);

// Vumi tags are [pool, tag]: the pool an identifier without ':', the tag name 1-128 bytes of UTF-8
// without control characters or whitespace ("*120*10001#", "+27820001001", "xmpp@example.org").
// Config and route keys write a tag "pool:tag", split at the first ':'.
struct TagParts {
  std::string_view pool;
  std::string_view name;
};

// Success when name can be a tag name (the second element of [pool, tag]); why not otherwise.
Expected<void> check_tag_name(std::string_view name);
// Success when pool can be a tag pool; why not otherwise.
Expected<void> check_tag_pool(std::string_view pool);
// Splits "pool:tag" at the first ':' and checks both parts; why it is not one otherwise.
Expected<void> check_tag(std::string_view tag);
// The parts of a "pool:tag" that check_tag accepts (no checks here).
TagParts split_tag(std::string_view tag);

}  // namespace vumi
