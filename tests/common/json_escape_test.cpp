// json::append_escaped and json::append_quoted: what they write is JSON string content (or a whole
// JSON string) that parses back to the input, with bytes that are not UTF-8 as U+FFFD.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace vumi::json {
namespace {

namespace bj = boost::json;

std::string quoted_text(std::string_view s) {
  std::string out = "prefix:";
  append_quoted(out, s);
  return out;
}

TEST(JsonEscape, AppendQuotedAppendsAQuotedStringAfterWhatWasThere) {
  EXPECT_EQ(quoted_text("acct1"), R"(prefix:"acct1")");
  EXPECT_EQ(quoted_text(""), R"(prefix:"")");
  EXPECT_EQ(quoted_text("say \"hi\"\\\n\t"), R"(prefix:"say \"hi\"\\\n\t")");
}

TEST(JsonEscape, WhatItWritesParsesBackToTheInput) {
  for (const std::string& s :
       {std::string("plain"), std::string("tab\there"), std::string("quote\"back\\slash"),
        std::string("ctl\x01\x1f"), std::string("Thandi \xc3\xa9\xe2\x82\xac"), std::string("nul\0in", 6)}) {
    std::string text;
    append_quoted(text, s);
    EXPECT_EQ(bj::parse(text).as_string(), s) << text;
  }
}

TEST(JsonEscape, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  std::string text;
  append_quoted(text,
                "a\xff"
                "b\xc3");
  EXPECT_EQ(text, R"("a\ufffdb\ufffd")");
  EXPECT_EQ(bj::parse(text).as_string(),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd");

  std::string content = "[";
  append_escaped(content, "\xc0\xaf");  // an overlong '/': two bytes, two replacements
  EXPECT_EQ(content, R"([\ufffd\ufffd)");
}

}  // namespace
}  // namespace vumi::json
