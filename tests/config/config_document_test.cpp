// The config's two passes: the document without the accounts, then the accounts one at a time.
#include "config/config_document.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/json.hpp"

namespace vumi::config {
namespace {

namespace bj = boost::json;

struct Read {
  ConfigDocument doc;
  std::vector<std::pair<std::string, std::string>> accounts;  // key, value as JSON
};

Read read_both_passes(std::string_view text) {
  Read read;
  json::ParseError error;
  EXPECT_TRUE(parse_config_document(text, 64, read.doc, error)) << error.message;
  EXPECT_TRUE(for_each_account(
      text, 64, read.doc,
      [&](std::string_view key, const bj::value& value) {
        read.accounts.emplace_back(key, bj::serialize(value));
      },
      error))
      << error.message;
  return read;
}

using Accounts = std::vector<std::pair<std::string, std::string>>;

TEST(ConfigDocument, LeavesOutTheAccountsAndHandsThemOverInOrder) {
  const Read read = read_both_passes(R"(// comments and trailing commas, as in any config
{
  "handlers": {"h": {"type": "noop", "options": {"accounts": [1, 2]}}},
  "accounts": {
    "acct1": {"tags": ["pool:1"], "routes": [{"on": {}, "chain": [{"handler": "h", "config": {"n": 1.5}}]}]},
    /* every kind of value, for the reader to judge */
    "a\u0062": [1, {"x": null}],
    "s": "text", "i": -7, "u": 18446744073709551615, "d": 2.5, "t": true, "n": null, "e": {},
  },
  "limits": {"max_body_bytes": 1024},
})");
  EXPECT_TRUE(read.doc.accounts_left_out);
  EXPECT_EQ(read.doc.account_count, 9u);
  EXPECT_EQ(bj::serialize(read.doc.root),
            R"({"handlers":{"h":{"type":"noop","options":{"accounts":[1,2]}}},"accounts":{},)"
            R"("limits":{"max_body_bytes":1024}})");
  EXPECT_EQ(
      read.accounts,
      (Accounts{
          {"acct1",
           R"({"tags":["pool:1"],"routes":[{"on":{},"chain":[{"handler":"h","config":{"n":1.5E0}}]}]})"},
          {"ab", R"([1,{"x":null}])"},
          {"s", R"("text")"},
          {"i", "-7"},
          {"u", "18446744073709551615"},
          {"d", "2.5E0"},
          {"t", "true"},
          {"n", "null"},
          {"e", "{}"}}));
}

// Only the top level's "accounts" is left out; like the document, the last of two counts.
TEST(ConfigDocument, OnlyTheLastTopLevelAccountsIsStreamed) {
  const Read nested =
      read_both_passes(R"({"x": {"accounts": {"q": 1}}, "accounts": {"a": 1}, "y": [{"accounts": 2}]})");
  EXPECT_EQ(bj::serialize(nested.doc.root),
            R"({"x":{"accounts":{"q":1}},"accounts":{},"y":[{"accounts":2}]})");
  EXPECT_EQ(nested.accounts, (Accounts{{"a", "1"}}));

  const Read twice = read_both_passes(R"({"accounts": {"a": 1}, "accounts": {"b": 2, "c": 3}})");
  EXPECT_EQ(twice.doc.account_count, 2u);
  EXPECT_EQ(twice.accounts, (Accounts{{"b", "2"}, {"c", "3"}}));

  const Read last_not_object = read_both_passes(R"({"accounts": {"a": 1}, "accounts": [5]})");
  EXPECT_FALSE(last_not_object.doc.accounts_left_out);
  EXPECT_EQ(bj::serialize(last_not_object.doc.root), R"({"accounts":[5]})");
  EXPECT_TRUE(last_not_object.accounts.empty());

  const Read none = read_both_passes(R"([{"accounts": {"a": 1}}])");
  EXPECT_FALSE(none.doc.accounts_left_out);
  EXPECT_TRUE(none.accounts.empty());
}

TEST(ConfigDocument, TheFirstPassChecksTheAccountsToo) {
  ConfigDocument doc;
  json::ParseError error;
  EXPECT_FALSE(parse_config_document("{\"accounts\": {\"a\": {\"n\": 1e999}}}", 64, doc, error));
  EXPECT_EQ(error.message.rfind("line 1 col ", 0), 0u) << error.message;
  EXPECT_NE(error.message.find("a number is beyond the range of a double"), std::string::npos)
      << error.message;

  // Where the text breaks, the message is json::parse's, position included.
  const std::string broken = "{\n  \"accounts\": {\n    \"a\": {\"tags\": [\"x\",]]}\n  }\n}";
  json::ParseError expected;
  bj::value ignored;
  ASSERT_FALSE(json::parse(broken, {.max_depth = 64, .allow_comments = true, .allow_trailing_commas = true},
                           ignored, expected));
  EXPECT_FALSE(parse_config_document(broken, 64, doc, error));
  EXPECT_EQ(error.message, expected.message);
  EXPECT_EQ(error.line, 3u);

  EXPECT_FALSE(parse_config_document(R"({"accounts": {"a": [[[[1]]]]}})", 4, doc, error));
  EXPECT_TRUE(error.too_deep);
}

// A text in pieces of n bytes, as a file is read: tokens, keys and strings split anywhere.
class Pieces final : public TextPieces {
 public:
  Pieces(std::string_view text, std::size_t n) : text_(text), n_(n) {}
  bool each(const std::function<bool(std::string_view)>& take, std::string&) const override {
    for (std::size_t at = 0; at < text_.size(); at += n_)
      if (!take(text_.substr(at, n_))) break;
    return true;
  }

 private:
  std::string_view text_;
  std::size_t n_;
};

TEST(ConfigDocument, PiecesOfAnySizeReadTheSameAsTheWholeText) {
  const std::string text = R"(/* a config */ {"handlers": {"h": {"type": "noop"}}, "acc\u006funts": 1,
    "accounts": {"acct1": {"tags": ["pool:1", "a long tag name that spans pieces"], "n": -12.5e2},
                 "a\u0062c": "a string account", "big": 18446744073709551615, "x": [true, false, null],
                 // a comment among the accounts
                 "last": {"deep": {"deeper": [[{"k": "v"}]]}},},
    "limits": {"max_body_bytes": 1024}}  )";
  const Read whole = read_both_passes(text);
  for (std::size_t n : {1, 2, 3, 5, 7, 16, 64}) {
    ConfigDocument doc;
    json::ParseError error;
    ASSERT_TRUE(parse_config_document(Pieces(text, n), 64, doc, error)) << n << ": " << error.message;
    EXPECT_EQ(bj::serialize(doc.root), bj::serialize(whole.doc.root)) << n;
    EXPECT_EQ(doc.account_count, whole.doc.account_count) << n;
    Accounts accounts;
    ASSERT_TRUE(for_each_account(
        Pieces(text, n), 64, doc,
        [&](std::string_view key, const bj::value& value) {
          accounts.emplace_back(key, bj::serialize(value));
        },
        error))
        << n << ": " << error.message;
    EXPECT_EQ(accounts, whole.accounts) << n;
  }
  EXPECT_EQ(whole.accounts.size(), 5u);
  EXPECT_EQ(whole.accounts[1].first, "abc");

  // Errors name the same place however the text is cut.
  const std::string broken = "{\n  \"accounts\": {\n    \"a\": {\"tags\": [\"x\",]]}\n  }\n}";
  json::ParseError whole_error;
  ConfigDocument doc;
  ASSERT_FALSE(parse_config_document(broken, 64, doc, whole_error));
  for (std::size_t n : {1, 4, 9}) {
    json::ParseError error;
    EXPECT_FALSE(parse_config_document(Pieces(broken, n), 64, doc, error));
    EXPECT_EQ(error.message, whole_error.message) << n;
  }
  const std::string huge = R"({"accounts": {"a": {"n": [1, 1e999]}}})";
  ASSERT_FALSE(parse_config_document(huge, 64, doc, whole_error));
  for (std::size_t n : {1, 2, 3}) {
    json::ParseError error;
    EXPECT_FALSE(parse_config_document(Pieces(huge, n), 64, doc, error));
    EXPECT_EQ(error.message, whole_error.message) << n;
  }
  json::ParseError trailing;
  EXPECT_FALSE(parse_config_document(Pieces("{} x", 1), 64, doc, trailing));
  EXPECT_EQ(trailing.message, "line 1 col 4: extra data");
  EXPECT_FALSE(parse_config_document(Pieces("{\"a\": ", 2), 64, doc, trailing));
}

// A second pass over another text says so rather than reading something else.
TEST(ConfigDocument, ASecondPassOverABrokenTextFails) {
  ConfigDocument doc;
  json::ParseError error;
  ASSERT_TRUE(parse_config_document(R"({"accounts": {"a": 1, "b": 2}})", 64, doc, error));
  std::vector<std::string> keys;
  EXPECT_FALSE(for_each_account(R"({"accounts": {"a": 1, "b": )", 64, doc,
                                [&](std::string_view key, const bj::value&) { keys.emplace_back(key); },
                                error));
  EXPECT_EQ(keys, std::vector<std::string>{"a"});
  EXPECT_FALSE(error.message.empty());
}

// A config of n accounts "a0".."a<n-1>", each a different value; account 7's holds a string larger
// than a batch's buffer.
std::string many_accounts(int n, Accounts& expected) {
  std::string text = R"({"handlers": {}, "accounts": {)";
  for (int i = 0; i < n; ++i) {
    const std::string key = "a" + std::to_string(i);
    std::string value = R"({"tags":["pool:)" + std::to_string(i) + R"("],"n":)" + std::to_string(i) + "}";
    if (i == 7) value = R"({"big":")" + std::string(300 * 1024, 'x') + R"("})";
    if (i % 10 == 3) value = "[" + std::to_string(i) + "]";
    text += (i ? ", \"" : "\"") + key + "\": " + value;
    expected.emplace_back(key, value);
  }
  return text + "}, \"limits\": {}}";
}

// Pieces that note the thread that reads them.
class NotedPieces final : public TextPieces {
 public:
  NotedPieces(std::string_view text, std::size_t n) : pieces_(text, n) {}
  bool each(const std::function<bool(std::string_view)>& take, std::string& why) const override {
    reader = std::this_thread::get_id();
    return pieces_.each(take, why);
  }
  mutable std::thread::id reader;

 private:
  Pieces pieces_;
};

// From a few hundred accounts, the second pass parses on a thread of its own: the visitor still
// sees every account in order, on the calling thread.
TEST(ConfigDocument, ManyAccountsAreParsedAsideAndVisitedInOrderHere) {
  Accounts expected;
  const std::string text = many_accounts(1000, expected);
  for (std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{4096}}) {
    ConfigDocument doc;
    json::ParseError error;
    ASSERT_TRUE(parse_config_document(text, 64, doc, error)) << error.message;
    ASSERT_EQ(doc.account_count, 1000u);
    Accounts accounts;
    const std::thread::id caller = std::this_thread::get_id();
    bool elsewhere = false;
    const auto visit = [&](std::string_view key, const bj::value& value) {
      accounts.emplace_back(key, bj::serialize(value));
      elsewhere = elsewhere || std::this_thread::get_id() != caller;
    };
    const NotedPieces pieces(text, n == 0 ? text.size() : n);
    ASSERT_TRUE(for_each_account(pieces, 64, doc, visit, error)) << n << ": " << error.message;
    EXPECT_EQ(accounts, expected) << n;
    EXPECT_FALSE(elsewhere) << n;
    EXPECT_NE(pieces.reader, caller) << n;  // parsed on another thread
  }
}

// Batch after batch larger than its buffer: each starts afresh on it (a reused arena would take
// twice the heap each time, until it could not).
TEST(ConfigDocument, BatchesLargerThanTheirBufferAgainAndAgainAllRead) {
  std::string text = R"({"accounts": {)";
  for (int i = 0; i < 3000; ++i)
    text += (i ? ", \"a" : "\"a") + std::to_string(i) + R"(": {"s": ")" + std::string(6000, 'x') + "\"}";
  text += "}}";
  ConfigDocument doc;
  json::ParseError error;
  ASSERT_TRUE(parse_config_document(text, 64, doc, error)) << error.message;
  std::size_t read = 0, bytes = 0;
  ASSERT_TRUE(for_each_account(
      text, 64, doc,
      [&](std::string_view, const bj::value& value) {
        ++read;
        bytes += value.at("s").as_string().size();
      },
      error))
      << error.message;
  EXPECT_EQ(read, 3000u);
  EXPECT_EQ(bytes, 3000u * 6000u);
}

// What the visitor throws reaches the caller, and the parsing thread stops (this returns).
TEST(ConfigDocument, AVisitorsExceptionStopsTheParsingThread) {
  Accounts expected;
  const std::string text = many_accounts(5000, expected);
  ConfigDocument doc;
  json::ParseError error;
  ASSERT_TRUE(parse_config_document(text, 64, doc, error)) << error.message;
  int visited = 0;
  EXPECT_THROW(for_each_account(
                   text, 64, doc,
                   [&](std::string_view, const bj::value&) {
                     if (++visited == 300) throw std::runtime_error("reader gave up");
                   },
                   error),
               std::runtime_error);
  EXPECT_EQ(visited, 300);
}

// A second pass over another text fails where the text breaks, after the accounts before it.
TEST(ConfigDocument, ASecondPassOnAThreadOverABrokenTextFails) {
  Accounts expected;
  const std::string text = many_accounts(1000, expected);
  ConfigDocument doc;
  json::ParseError error;
  ASSERT_TRUE(parse_config_document(text, 64, doc, error)) << error.message;
  const std::string broken = text.substr(0, text.find("\"a600\""));
  std::vector<std::string> keys;
  EXPECT_FALSE(for_each_account(
      broken, 64, doc, [&](std::string_view key, const bj::value&) { keys.emplace_back(key); }, error));
  ASSERT_EQ(keys.size(), 600u);
  EXPECT_EQ(keys.back(), "a599");
  EXPECT_NE(error.message.find("line 1 col "), std::string::npos) << error.message;
}

}  // namespace
}  // namespace vumi::config
