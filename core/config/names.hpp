// Names that recur across accounts (handler and step names, event and conversation types), held
// once for the life of the process.
#pragma once

#include <string_view>

namespace vumi::config {

// The one stored copy of name, valid until the process exits: a spec keeps this 16-byte view
// instead of a 32-byte string in every account (100,000 accounts repeat the same few names).
// Only for names from a small vocabulary: each distinct one is kept forever. Thread-safe.
std::string_view interned_name(std::string_view name);

}  // namespace vumi::config
