#include "config/names.hpp"

namespace vumi::config {

std::string_view NameTable::intern(std::string_view name) {
  if (name.empty()) return {};
  auto found = names_.find(name);
  if (found == names_.end()) found = names_.emplace(name).first;
  return *found;
}

}  // namespace vumi::config
