// "Did you mean" suggestions for misspelled keys and names in config and schema messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vumi {

// The candidate closest to name by edit distance when it is close enough to be a likely typo
// (at most 2 edits, or a third of the name's length for long names, and fewer
// edits than the name has characters), else the first candidate that name begins (3+ characters), or nullopt.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates);

// Candidates joined for messages: "a, b, c" ("none" when empty).
std::string join_names(const std::vector<std::string>& names);

}  // namespace vumi
