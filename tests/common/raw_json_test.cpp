// respell: values that did not change keep the bytes they arrived as.
#include "common/raw_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace vumi::json {
namespace {

namespace bj = boost::json;

std::string respell_after(std::string_view text, void (*change)(bj::object&)) {
  const bj::value original = bj::parse(text);
  bj::value changed = original;
  change(changed.as_object());
  return respell(changed, original, text);
}

TEST(Respell, AnUnchangedValueIsTheOriginalText) {
  const std::string text = R"({"big": 1180591620717411303424, "ratio": 0.05, "e": 1E+2, "s": "\u00e9"})";
  EXPECT_EQ(respell_after(text, [](bj::object&) {}), text);
  // Boost.JSON alone would not keep them.
  EXPECT_NE(bj::serialize(bj::parse(text)), text);
}

TEST(Respell, OnlyTheChangedMembersAreSerialisedAnew) {
  const std::string text = R"({"a": 0.05, "meta": {"n": 2.50, "tag": ["p", "t"]}, "z": -0.0})";
  EXPECT_EQ(respell_after(text,
                          [](bj::object& o) {
                            o["meta"].as_object()["go"] = bj::object{{"k", "v"}};
                          }),
            R"({"a": 0.05, "meta": {"n": 2.50, "tag": ["p", "t"], "go": {"k":"v"}}, "z": -0.0})");
  EXPECT_EQ(respell_after(text, [](bj::object& o) { o["a"] = "x"; }),
            R"({"a": "x", "meta": {"n": 2.50, "tag": ["p", "t"]}, "z": -0.0})");
}

TEST(Respell, RemovedMembersGoAndKeyOrderStays) {
  const std::string text = R"({"first": 1.0, "second": 2.0, "third": 3.0})";
  EXPECT_EQ(respell_after(text, [](bj::object& o) { o.erase("first"); }), R"({"second": 2.0, "third": 3.0})");
  EXPECT_EQ(respell_after(text, [](bj::object& o) { o.erase("second"); }), R"({"first": 1.0, "third": 3.0})");
}

TEST(Respell, CompactTextStaysCompactAndEscapedKeysAreFound) {
  const std::string text = "{\"k\\u0065y\":1.50,\"b\":[1.0,2]}";
  EXPECT_EQ(respell_after(text, [](bj::object& o) { o["c"] = true; }),
            "{\"k\\u0065y\":1.50,\"b\":[1.0,2],\"c\":true}");
}

TEST(RawObject, SplitsMembersWithTheirSpacing) {
  auto raw = raw_object(R"( { "a" : [1, {"x": "}"}] , "b":"\"q" } )");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->members.size(), 2u);
  EXPECT_EQ(raw->members[0].key, "a");
  EXPECT_EQ(raw->members[0].value_text, R"([1, {"x": "}"}])");
  EXPECT_EQ(raw->members[1].key, "b");
  EXPECT_EQ(raw->members[1].value_text, R"("\"q")");
  EXPECT_EQ(raw->members[1].before, " , ");
  EXPECT_FALSE(raw_object("[1]"));
}

}  // namespace
}  // namespace vumi::json
