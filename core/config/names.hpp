// The names the account specs of one reading share: handler and step names, event and
// conversation types.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "common/string_hash.hpp"

namespace vumi::config {

// Each name once; the specs read with a table hold views of it, 16 bytes instead of a 32-byte
// string in every account (100,000 accounts repeat the same few names), and keep the table alive
// (AccountSpec::names), so it lives as long as the last of them. Filled while one document is
// read, on that thread; read-only after.
class NameTable {
 public:
  // The table's copy of name (empty for an empty name), valid while the table lives.
  std::string_view intern(std::string_view name);

 private:
  // A node's string stays where it is when the set rehashes.
  std::unordered_set<std::string, StringHash, std::equal_to<>> names_;
};

}  // namespace vumi::config
