#include "config/names.hpp"

#include <mutex>
#include <string>
#include <unordered_set>

#include "common/string_hash.hpp"

namespace vumi::config {

std::string_view interned_name(std::string_view name) {
  if (name.empty()) return {};
  // Never freed (views of it live in specs until exit); a node's string stays where it is when the
  // set rehashes.
  static auto* names = new std::unordered_set<std::string, StringHash, std::equal_to<>>();
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  auto found = names->find(name);
  if (found == names->end()) found = names->emplace(name).first;
  return *found;
}

}  // namespace vumi::config
