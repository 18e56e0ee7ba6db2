// Ids derived from what they identify, so that a replay of the same work yields the same ids
// (docs/delivery.md: exactly-once effects).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace vumi {

// 32 lowercase hex characters: a name-based (SHA-1, RFC 4122 version 5) UUID of the parts, in
// order, within the dispatcher's own namespace. Equal parts give equal ids; parts are separated
// unambiguously ("a","bc" and "ab","c" differ).
std::string derived_id(std::initializer_list<std::string_view> parts);

}  // namespace vumi
