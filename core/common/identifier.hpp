// Identifier rules of the wire protocol: [A-Za-z0-9_:-]{1,128}.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vumi {

constexpr std::size_t kMaxIdentifierLength = 128;

// True when s is a valid identifier.
bool is_identifier(std::string_view s);

// Why s is not an identifier ("is empty", "contains '.'", "is longer than 128 characters"),
// or nullopt when it is one.
std::optional<std::string> identifier_problem(std::string_view s);

// Vumi tags are [pool, tag]: the pool an identifier without ':', the tag name 1-128 bytes of UTF-8
// without control characters or whitespace ("*120*10001#", "+27820001001", "xmpp@example.org").
// Config and route keys write a tag "pool:tag", split at the first ':'.
struct TagParts {
  std::string_view pool;
  std::string_view name;
};

// Why name cannot be a tag name (the second element of [pool, tag]), or nullopt when it can.
std::optional<std::string> tag_name_problem(std::string_view name);
// Why pool cannot be a tag pool, or nullopt when it can.
std::optional<std::string> tag_pool_problem(std::string_view pool);
// Splits "pool:tag" at the first ':' and checks both parts; the problem otherwise.
std::optional<std::string> tag_problem(std::string_view tag);
// The parts of a "pool:tag" that tag_problem accepts (no checks here).
TagParts split_tag(std::string_view tag);

}  // namespace vumi
