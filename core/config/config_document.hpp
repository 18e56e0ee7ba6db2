// The config text parsed in two passes, so that the accounts' part of the document never exists
// whole: with 100,000 accounts that part took 220 MB while the Config read from it took 130 MB.
// The first pass builds the document without the members of "accounts"; the second hands them
// over one at a time, each built alone and freed once read.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace vumi::config {

// A text handed over in pieces from its start, as often as asked: a large config file is read
// twice rather than held whole.
class TextPieces {
 public:
  virtual ~TextPieces() = default;
  // Calls take(piece) for each piece in order until it returns false; false with why when the
  // text cannot be read.
  virtual bool each(const std::function<bool(std::string_view piece)>& take, std::string& why) const = 0;
};

// A text in memory, in one piece.
class WholeText final : public TextPieces {
 public:
  explicit WholeText(std::string_view text) : text_(text) {}
  bool each(const std::function<bool(std::string_view piece)>& take, std::string& why) const override;

 private:
  std::string_view text_;
};

// The document of the first pass.
struct ConfigDocument {
  boost::json::value root;              // "accounts" is {} here when accounts_left_out
  bool accounts_left_out = false;       // the (last) top-level "accounts" was an object: for the second pass
  std::size_t account_count = 0;        // how many members that object has
  std::size_t accounts_occurrence = 0;  // which top-level "accounts" key it follows (1-based)
};

// The first pass: parses text (comments and trailing commas allowed, nesting up to max_depth) into
// doc. False with err (line and column) when the text is not JSON, nests deeper, or holds a number
// beyond the range of a double, anywhere, accounts included; err.line is 0 when the text could not
// be read (err.message says why).
bool parse_config_document(const TextPieces& text, std::size_t max_depth, ConfigDocument& doc,
                           json::ParseError& err);
bool parse_config_document(std::string_view text, std::size_t max_depth, ConfigDocument& doc,
                           json::ParseError& err);

// Receives one account: its key as written and its value.
using AccountVisitor = std::function<void(std::string_view key, const boost::json::value& value)>;

// The second pass, over the same text: calls visit for each member of the object the first pass
// left out of doc, in order; the value lives for the call. False with err if the text fails to
// parse, which it does only when it is not the text the first pass accepted.
bool for_each_account(const TextPieces& text, std::size_t max_depth, const ConfigDocument& doc,
                      const AccountVisitor& visit, json::ParseError& err);
bool for_each_account(std::string_view text, std::size_t max_depth, const ConfigDocument& doc,
                      const AccountVisitor& visit, json::ParseError& err);

}  // namespace vumi::config
