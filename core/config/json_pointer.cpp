#include "config/json_pointer.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>

namespace vumi::config {

namespace {

// RFC 6901 array indexes: "0" or digits without a leading zero.
std::optional<std::size_t> array_index(std::string_view token) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  std::size_t index = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return index;
}

}  // namespace

Expected<JsonPointer> JsonPointer::parse(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::invalid, "empty pointer");
  if (text[0] != '/') return fail(ErrorCode::invalid, "pointer must start with '/'");
  JsonPointer p;
  p.text_ = std::string(text);
  std::string token;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      p.indexes_.push_back(array_index(token));
      p.tokens_.push_back(std::move(token));
      token.clear();
    } else if (text[i] == '~') {
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (next != '0' && next != '1')
        return fail(ErrorCode::invalid, "'~' must be followed by 0 or 1 (\"~0\" is '~', \"~1\" is '/')");
      token += next == '0' ? '~' : '/';
      ++i;
    } else {
      token += text[i];
    }
  }
  return p;
}

const boost::json::value* JsonPointer::resolve(const boost::json::value& root, std::size_t first,
                                               std::string& missing) const {
  const boost::json::value* at = &root;
  for (std::size_t i = first; i < tokens_.size() && at; ++i) {
    const boost::json::value* next = nullptr;
    if (const auto* obj = at->if_object()) {
      next = obj->if_contains(tokens_[i]);
    } else if (const auto* arr = at->if_array()) {
      if (indexes_[i] && *indexes_[i] < arr->size()) next = &(*arr)[*indexes_[i]];
    }
    if (!next) {
      // the failing prefix, in the pointer's own spelling
      std::size_t end = 0;
      for (std::size_t slashes = 0; end < text_.size(); ++end) {
        if (text_[end] == '/' && ++slashes > i + 1) break;
      }
      missing = text_.substr(0, end);
    }
    at = next;
  }
  return at;
}

}  // namespace vumi::config
