// Identifier rules of the wire protocol, and the one-pass split of topics into identifiers.
#include "common/identifier.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace vumi {
namespace {

TEST(Identifier, AllowsLettersDigitsUnderscoreColonAndDashUpTo128Bytes) {
  EXPECT_TRUE(is_identifier("a-1_B:c"));
  EXPECT_TRUE(is_identifier(std::string(128, 'x')));
  EXPECT_FALSE(is_identifier(std::string(129, 'x')));
  for (const char* bad : {"", "a.b", "a b", "a/b", "caf\xc3\xa9", "a\nb"})
    EXPECT_FALSE(is_identifier(bad)) << bad;
  EXPECT_FALSE(check_identifier("a.b"));
  EXPECT_EQ(check_identifier("").error().message, "is empty");
}

TEST(SplitIdentifiers, SplitsExactlyThePartsAskedFor) {
  std::array<std::string_view, 3> parts;
  ASSERT_TRUE(split_identifiers("acct1.vxpolls.poll_complete", '.', parts));
  EXPECT_EQ(parts[0], "acct1");
  EXPECT_EQ(parts[1], "vxpolls");
  EXPECT_EQ(parts[2], "poll_complete");
  std::array<std::string_view, 1> one;
  ASSERT_TRUE(split_identifiers(std::string(128, 'a'), '.', one));
  EXPECT_EQ(one[0].size(), 128u);
}

TEST(SplitIdentifiers, RefusesWhatIsNotExactlyThatManyIdentifiers) {
  std::array<std::string_view, 3> parts;
  for (const std::string& text :
       std::vector<std::string>{"", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "a.b c.d", "a.b.c\x80",
                                "a." + std::string(129, 'b') + ".c"})
    EXPECT_FALSE(split_identifiers(text, '.', parts)) << text;
}

}  // namespace
}  // namespace vumi
