// RFC 6901 JSON pointers as templates use them: parsed once at config load, resolved per event.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace vumi::config {

class JsonPointer {
 public:
  // Parses "/a/b~1c" ("~1" is '/', "~0" is '~'); ErrorCode::invalid saying why on a syntax error.
  static Expected<JsonPointer> parse(std::string_view text);

  const std::string& text() const { return text_; }
  // The unescaped reference tokens ("/event/x" -> {"event", "x"}).
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Follows tokens [first, end) from root; returns null when a token names nothing, and sets
  // missing to the pointer prefix that failed ("/event/event_data/answers").
  const boost::json::value* resolve(const boost::json::value& root, std::size_t first,
                                    std::string& missing) const;

 private:
  std::string text_;
  std::vector<std::string> tokens_;
  std::vector<std::optional<std::size_t>> indexes_;  // the token as an array index, when it is one
};

}  // namespace vumi::config
