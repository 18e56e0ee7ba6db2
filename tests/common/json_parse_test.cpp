// json::parse: where a text is refused, and that what it accepts serialises back to JSON.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace vumi::json {
namespace {

namespace bj = boost::json;

struct Parsed {
  bool ok = false;
  bj::value value;
  ParseError error;
};

Parsed parse_text(std::string_view text, ParseLimits limits = {}) {
  Parsed p;
  p.ok = parse(text, limits, p.value, p.error);
  return p;
}

TEST(JsonParse, AcceptsAnObjectAndKeepsItsNumbers) {
  const Parsed p = parse_text(R"({"n": -12, "u": 18446744073709551615, "d": 2.5e300, "tiny": 1e-400})");
  ASSERT_TRUE(p.ok) << p.error.message;
  EXPECT_EQ(p.value.at("n").as_int64(), -12);
  EXPECT_EQ(p.value.at("u").as_uint64(), 18446744073709551615u);
  EXPECT_EQ(p.value.at("d").as_double(), 2.5e300);
  EXPECT_EQ(p.value.at("tiny").as_double(), 0.0);  // below the smallest double: zero, still JSON
}

// Boost.JSON 1.81 alone reads these as infinity and writes "Infinity" back, which is not JSON.
TEST(JsonParse, RefusesANumberBeyondTheRangeOfADouble) {
  for (const std::string& number : std::vector<std::string>{"1e400", "-1e400", "1" + std::string(400, '0'),
                                                            "-" + std::string(320, '9') + ".5"}) {
    const Parsed p = parse_text("{\n  \"d\": [" + number + "]\n}");
    EXPECT_FALSE(p.ok) << number;
    EXPECT_EQ(p.error.line, 2u) << number;
    EXPECT_EQ(p.error.message.rfind("line 2 col ", 0), 0u) << p.error.message;
    EXPECT_NE(p.error.message.find("a number is beyond the range of a double"), std::string::npos)
        << p.error.message;
  }
  const Parsed largest = parse_text("[1.7976931348623157e308]");
  ASSERT_TRUE(largest.ok) << largest.error.message;
  EXPECT_EQ(bj::parse(bj::serialize(largest.value)), largest.value);
}

TEST(JsonParse, OtherErrorsKeepBoostsMessageAndPosition) {
  EXPECT_EQ(parse_text("{\"a\": 1} extra").error.message, "line 1 col 10: extra data");
  EXPECT_EQ(parse_text("{\n  \"a\": tru }").error.message.rfind("line 2 col ", 0), 0u);
  EXPECT_TRUE(parse_text("[[[1]]]", {.max_depth = 2}).error.too_deep);
  EXPECT_FALSE(parse_text("{\"a\": 1,}").ok);
  EXPECT_TRUE(parse_text("// note\n{\"a\": 1,}", {.allow_comments = true, .allow_trailing_commas = true}).ok);
  EXPECT_TRUE(parse_text("[1]  \n").ok);
}

TEST(JsonParse, TheValueLivesInTheGivenStorage) {
  auto arena = bj::make_shared_resource<bj::monotonic_resource>();
  bj::value out;
  ParseError error;
  ASSERT_TRUE(parse(R"({"s": "a string longer than any small-string buffer"})", {}, out, error, arena));
  EXPECT_EQ(out.storage().get(), arena.get());
}

}  // namespace
}  // namespace vumi::json
