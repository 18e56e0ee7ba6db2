#include "config/config_document.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "common/json_value_builder.hpp"
#include "config/account_handoff.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

constexpr std::string_view kAccounts = "accounts";
// From this many accounts the second pass parses on a thread of its own (AccountHandoff); below,
// a thread would cost more than it saves.
constexpr std::size_t kHandoffFromAccounts = 256;

// Where the parser is: how deep, and which top-level member it is in.
struct Position {
  std::size_t depth = 0;          // open objects and arrays; the top-level object's members are at 1
  std::string key;                // the last top-level key, its parts joined
  bool key_open = false;          // more parts of key are to come
  std::size_t accounts_seen = 0;  // top-level "accounts" keys so far

  void key_part(bj::string_view s) {
    if (!key_open) key.clear();
    key_open = true;
    key.append(s.data(), s.size());
  }
  void key_done(bj::string_view s) {
    key_part(s);
    key_open = false;
    if (key == kAccounts) ++accounts_seen;
  }
  // A value that starts now is that of a top-level "accounts".
  bool at_accounts_value() const { return depth == 1 && key == kAccounts; }
};

// The first pass: builds the document, but an "accounts" object's members are only checked, and
// the object stands in the document as {}.
class LeaveOutAccounts : public json::ValueBuilder {
 public:
  Position pos;
  bool last_left_out = false;       // the last top-level "accounts" was an object, left out
  std::size_t last_occurrence = 0;  // which "accounts" key that was (1-based)
  std::size_t account_count = 0;    // its members

  bool on_object_begin(bj::error_code&) {
    if (!skipping() && pos.at_accounts_value()) {
      skipped_depth_ = pos.depth + 1;
      last_left_out = true;
      last_occurrence = pos.accounts_seen;
    }
    ++pos.depth;
    return true;
  }
  bool on_object_end(std::size_t n, bj::error_code& ec) {
    if (skipping()) {
      if (pos.depth-- == skipped_depth_) {
        skipped_depth_ = 0;
        account_count = n;
        st.push_object(0);
      }
      return true;
    }
    --pos.depth;
    return ValueBuilder::on_object_end(n, ec);
  }
  bool on_array_begin(bj::error_code&) {
    scalar_or_array_starts();
    ++pos.depth;
    return true;
  }
  bool on_array_end(std::size_t n, bj::error_code& ec) {
    --pos.depth;
    return skipping() || ValueBuilder::on_array_end(n, ec);
  }
  bool on_key_part(bj::string_view s, std::size_t n, bj::error_code& ec) {
    if (skipping()) return true;
    if (pos.depth == 1) pos.key_part(s);
    return ValueBuilder::on_key_part(s, n, ec);
  }
  bool on_key(bj::string_view s, std::size_t n, bj::error_code& ec) {
    if (skipping()) return true;
    if (pos.depth == 1) pos.key_done(s);
    return ValueBuilder::on_key(s, n, ec);
  }
  bool on_string_part(bj::string_view s, std::size_t n, bj::error_code& ec) {
    scalar_or_array_starts();
    return skipping() || ValueBuilder::on_string_part(s, n, ec);
  }
  bool on_string(bj::string_view s, std::size_t n, bj::error_code& ec) {
    scalar_or_array_starts();
    return skipping() || ValueBuilder::on_string(s, n, ec);
  }
  bool on_int64(std::int64_t i, bj::string_view s, bj::error_code& ec) {
    scalar_or_array_starts();
    return skipping() || ValueBuilder::on_int64(i, s, ec);
  }
  bool on_uint64(std::uint64_t u, bj::string_view s, bj::error_code& ec) {
    scalar_or_array_starts();
    return skipping() || ValueBuilder::on_uint64(u, s, ec);
  }
  bool on_double(double d, bj::string_view s, bj::error_code& ec) {
    scalar_or_array_starts();
    // Out of range is refused in the accounts too: ValueBuilder fails on it without building.
    if (skipping() && std::isfinite(d)) return true;
    return ValueBuilder::on_double(d, s, ec);
  }
  bool on_bool(bool b, bj::error_code& ec) {
    scalar_or_array_starts();
    return skipping() || ValueBuilder::on_bool(b, ec);
  }
  bool on_null(bj::error_code& ec) {
    scalar_or_array_starts();
    return skipping() || ValueBuilder::on_null(ec);
  }

 private:
  bool skipping() const { return skipped_depth_ != 0; }
  // A top-level "accounts" that is no object is in the document, to be reported as it is.
  void scalar_or_array_starts() {
    if (!skipping() && pos.at_accounts_value()) last_left_out = false;
  }

  std::size_t skipped_depth_ = 0;  // the depth inside the object being left out; 0: none
};

// The second pass: builds each member of the chosen "accounts" object alone and hands it to the
// visitor, built in an arena started afresh for each, or to the handoff, built in its batch's
// arena; everything else is only parsed.
class StreamAccounts : public json::ValueBuilder {
 public:
  StreamAccounts(std::size_t occurrence, const AccountVisitor& visit)
      : occurrence_(occurrence), visit_(&visit) {}
  StreamAccounts(std::size_t occurrence, AccountHandoff& handoff)
      : occurrence_(occurrence), handoff_(&handoff) {}

  bool on_object_begin(bj::error_code&) {
    if (!in_accounts_ && pos_.at_accounts_value() && pos_.accounts_seen == occurrence_)
      in_accounts_ = true;
    else if (at_account_value())
      begin_value();
    ++pos_.depth;
    return true;
  }
  bool on_object_end(std::size_t n, bj::error_code& ec) {
    --pos_.depth;
    if (building_) {
      if (!ValueBuilder::on_object_end(n, ec)) return false;
      if (at_account_value()) return end_value(ec);
    } else if (in_accounts_ && pos_.depth == 1) {
      in_accounts_ = false;
    }
    return true;
  }
  bool on_array_begin(bj::error_code&) {
    if (at_account_value()) begin_value();
    ++pos_.depth;
    return true;
  }
  bool on_array_end(std::size_t n, bj::error_code& ec) {
    --pos_.depth;
    if (!building_) return true;
    if (!ValueBuilder::on_array_end(n, ec)) return false;
    if (at_account_value()) return end_value(ec);
    return true;
  }
  bool on_key_part(bj::string_view s, std::size_t n, bj::error_code& ec) {
    if (building_) return ValueBuilder::on_key_part(s, n, ec);
    if (pos_.depth == 1) pos_.key_part(s);
    if (at_account_value()) account_key_part(s);
    return true;
  }
  bool on_key(bj::string_view s, std::size_t n, bj::error_code& ec) {
    if (building_) return ValueBuilder::on_key(s, n, ec);
    if (pos_.depth == 1) pos_.key_done(s);
    if (at_account_value()) {
      account_key_part(s);
      account_key_open_ = false;
    }
    return true;
  }
  bool on_string_part(bj::string_view s, std::size_t n, bj::error_code& ec) {
    if (!building_ && at_account_value()) begin_value();
    return !building_ || ValueBuilder::on_string_part(s, n, ec);
  }
  bool on_string(bj::string_view s, std::size_t n, bj::error_code& ec) {
    return scalar(ec, [&] { return ValueBuilder::on_string(s, n, ec); });
  }
  bool on_int64(std::int64_t i, bj::string_view s, bj::error_code& ec) {
    return scalar(ec, [&] { return ValueBuilder::on_int64(i, s, ec); });
  }
  bool on_uint64(std::uint64_t u, bj::string_view s, bj::error_code& ec) {
    return scalar(ec, [&] { return ValueBuilder::on_uint64(u, s, ec); });
  }
  bool on_double(double d, bj::string_view s, bj::error_code& ec) {
    return scalar(ec, [&] { return ValueBuilder::on_double(d, s, ec); });
  }
  bool on_bool(bool b, bj::error_code& ec) {
    return scalar(ec, [&] { return ValueBuilder::on_bool(b, ec); });
  }
  bool on_null(bj::error_code& ec) {
    return scalar(ec, [&] { return ValueBuilder::on_null(ec); });
  }

  bool stopped = false;  // the handoff's reading side stopped, and so did this parse

 private:
  // A member of the accounts object starts or ends here.
  bool at_account_value() const { return in_accounts_ && pos_.depth == 2; }

  void account_key_part(bj::string_view s) {
    if (!account_key_open_) account_key_.clear();
    account_key_open_ = true;
    account_key_.append(s.data(), s.size());
  }

  void begin_value() {
    if (handoff_) {
      ValueBuilder::start(handoff_->storage());
    } else {
      arena_.emplace(buffer_, sizeof buffer_);
      ValueBuilder::start(bj::storage_ptr(&*arena_));
    }
    building_ = true;
  }

  bool end_value(bj::error_code& ec) {
    building_ = false;
    if (!handoff_) {
      const bj::value account = st.release();
      (*visit_)(account_key_, account);
      return true;
    }
    if (handoff_->put(account_key_, st.release())) return true;
    stopped = true;
    ec = bj::error::exception;  // ends the parse; the reading side's exception is what is reported
    return false;
  }

  // A scalar: part of the account being built, an account of its own, or outside the accounts.
  template <class Push>
  bool scalar(bj::error_code& ec, Push push) {
    if (!building_ && at_account_value()) begin_value();
    if (!building_) return true;
    if (!push()) return false;
    if (at_account_value()) return end_value(ec);
    return true;
  }

  Position pos_;
  std::size_t occurrence_;
  const AccountVisitor* visit_ = nullptr;  // one of these two
  AccountHandoff* handoff_ = nullptr;
  bool in_accounts_ = false;
  bool building_ = false;
  std::string account_key_;
  bool account_key_open_ = false;
  // Most accounts fit in the buffer; a larger one continues on the heap, freed with the arena.
  unsigned char buffer_[16 * 1024];
  std::optional<bj::monotonic_resource> arena_;
};

bj::parse_options config_options(std::size_t max_depth) {
  bj::parse_options options;
  options.max_depth = max_depth;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  return options;
}

// Line and column (1-based) of byte offset in text, read again up to there.
void locate(const TextPieces& text, std::size_t offset, json::ParseError& err) {
  err.line = 1;
  err.column = 1;
  std::size_t seen = 0;
  std::string why;
  text.each(
      [&](std::string_view piece) {
        const std::string_view before = piece.substr(0, offset - seen);
        const auto [line, column] = json::line_column(before, before.size());  // within the piece
        err.line += line - 1;
        err.column = line > 1 ? column : err.column + column - 1;
        seen += before.size();
        return seen < offset;
      },
      why);
}

// Runs parser over the text, piece by piece; false with err (line and column) on a failure.
template <class Handler>
bool parse_pieces(bj::basic_parser<Handler>& parser, const TextPieces& text, json::ParseError& err) {
  bj::error_code ec;
  std::size_t offset = 0;  // of the piece being parsed
  std::string why;
  const bool read = text.each(
      [&](std::string_view piece) {
        const std::size_t consumed = parser.write_some(true, piece.data(), piece.size(), ec);
        if (!ec && consumed < piece.size()) ec = bj::error::extra_data;  // after the document
        offset += ec ? consumed : piece.size();
        return !ec;
      },
      why);
  if (!read) {
    err.message = why;  // line 0: unreadable
    return false;
  }
  if (!ec) {
    constexpr char kNone = 0;
    parser.write_some(false, &kNone, 0, ec);
  }
  if (!ec) return true;
  if constexpr (requires { parser.handler().stopped; }) {
    // The reader stopped (it threw): no place to report, and no reason to read the text again.
    if (parser.handler().stopped) return false;
  }
  locate(text, offset, err);
  err.too_deep = (ec == bj::error::too_deep);
  err.message =
      "line " + std::to_string(err.line) + " col " + std::to_string(err.column) + ": " +
      (parser.handler().number_out_of_range ? json::ValueBuilder::kOutOfRangeMessage : ec.message());
  return false;
}

}  // namespace

bool WholeText::each(const std::function<bool(std::string_view piece)>& take, std::string&) const {
  take(text_);
  return true;
}

bool parse_config_document(const TextPieces& text, std::size_t max_depth, ConfigDocument& doc,
                           json::ParseError& err) {
  // The document's arena is freed at once when the document goes.
  bj::basic_parser<LeaveOutAccounts> parser(config_options(max_depth));
  parser.handler().start(bj::make_shared_resource<bj::monotonic_resource>());
  if (!parse_pieces(parser, text, err)) return false;
  LeaveOutAccounts& handler = parser.handler();
  // Constructed, not assigned: assignment would copy every node out of the arena.
  std::destroy_at(&doc.root);
  std::construct_at(&doc.root, handler.st.release());
  doc.accounts_left_out = handler.last_left_out;
  doc.account_count = handler.account_count;
  doc.accounts_occurrence = handler.last_occurrence;
  return true;
}

bool parse_config_document(std::string_view text, std::size_t max_depth, ConfigDocument& doc,
                           json::ParseError& err) {
  return parse_config_document(WholeText(text), max_depth, doc, err);
}

bool for_each_account(const TextPieces& text, std::size_t max_depth, const ConfigDocument& doc,
                      const AccountVisitor& visit, json::ParseError& err) {
  if (!doc.accounts_left_out) return true;
  const auto parse_here = [&] {
    bj::basic_parser<StreamAccounts> parser(config_options(max_depth), doc.accounts_occurrence, visit);
    return parse_pieces(parser, text, err);
  };
  if (doc.account_count < kHandoffFromAccounts) return parse_here();
  // Parsed on a thread of its own while visit reads, here, what was parsed before.
  AccountHandoff handoff;
  bool parsed = false;
  json::ParseError parse_error;
  std::exception_ptr failure;
  std::thread parsing;
  try {
    parsing = std::thread([&] {
      try {
        bj::basic_parser<StreamAccounts> parser(config_options(max_depth), doc.accounts_occurrence, handoff);
        parsed = parse_pieces(parser, text, parse_error);
      } catch (...) {
        failure = std::current_exception();
      }
      handoff.finish();
    });
  } catch (const std::system_error&) {
    return parse_here();  // no thread to be had (a process limit): the same pass, here
  }
  try {
    handoff.visit_all(visit);
  } catch (...) {
    parsing.join();  // visit_all stopped the handoff: the parse ends at its next full batch or the text's end
    throw;
  }
  parsing.join();
  if (failure) std::rethrow_exception(failure);
  if (!parsed) err = std::move(parse_error);
  return parsed;
}

bool for_each_account(std::string_view text, std::size_t max_depth, const ConfigDocument& doc,
                      const AccountVisitor& visit, json::ParseError& err) {
  return for_each_account(WholeText(text), max_depth, doc, visit, err);
}

}  // namespace vumi::config
