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

}  // namespace vumi
