// Expected<T, E>: a value or the error, with std::expected's names.
#include "common/expected.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace vumi {
namespace {

Expected<int> parse_digit(char c) {
  if (c < '0' || c > '9')
    return fail(ErrorCode::invalid, std::string("'") + c + "' is not a digit", "digits[0]");
  return c - '0';
}

TEST(Expected, HoldsTheValue) {
  const Expected<int> seven = parse_digit('7');
  ASSERT_TRUE(seven.has_value());
  EXPECT_TRUE(static_cast<bool>(seven));
  EXPECT_EQ(*seven, 7);
  EXPECT_EQ(seven.value(), 7);
  EXPECT_EQ(seven.value_or(-1), 7);
}

TEST(Expected, HoldsTheErrorWithCodeMessageAndPath) {
  const Expected<int> bad = parse_digit('x');
  ASSERT_FALSE(bad.has_value());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error().code, ErrorCode::invalid);
  EXPECT_EQ(bad.error().message, "'x' is not a digit");
  EXPECT_EQ(bad.error().path, "digits[0]");
  EXPECT_EQ(bad.error().text(), "digits[0]: 'x' is not a digit");
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Expected, ErrorTextWithoutPathIsTheMessage) {
  EXPECT_EQ((Error{ErrorCode::not_found, "no such plugin", ""}.text()), "no such plugin");
}

TEST(Expected, CodesHaveStableNames) {
  EXPECT_EQ(error_code_name(ErrorCode::invalid), "invalid");
  EXPECT_EQ(error_code_name(ErrorCode::refused), "refused");
  EXPECT_EQ(error_code_name(ErrorCode::not_found), "not_found");
  EXPECT_EQ(error_code_name(ErrorCode::unavailable), "unavailable");
  EXPECT_EQ(error_code_name(ErrorCode::internal), "internal");
}

TEST(Expected, MovesMoveOnlyValuesOut) {
  Expected<std::unique_ptr<int>> made = std::make_unique<int>(3);
  ASSERT_TRUE(made);
  std::unique_ptr<int> owned = std::move(made).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 3);
}

TEST(Expected, AcceptsAnyErrorType) {
  // The event layer's results carry its Rejection; config validation carries every error found.
  using Many = Expected<int, std::vector<std::string>>;
  const Many failed = Unexpected(std::vector<std::string>{"a: bad", "b: bad"});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().size(), 2U);
  const Many fine = 4;
  EXPECT_EQ(*fine, 4);
}

TEST(Expected, ValueAndErrorMayBeTheSameType) {
  const Expected<std::string, std::string> ok = std::string("value");
  const Expected<std::string, std::string> bad = Unexpected(std::string("why"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "value");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "why");
}

struct Refusal {
  int reason = 0;
  std::string message;
};

Expected<std::string, Refusal> name_of(int id) {
  if (id < 0) return Refusal{1, "negative"};  // an error that cannot be taken for a value converts
  return std::to_string(id);
}

TEST(Expected, AnErrorThatIsNoValueConvertsImplicitly) {
  ASSERT_TRUE(name_of(5));
  EXPECT_EQ(*name_of(5), "5");
  const auto refused = name_of(-1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, 1);
  EXPECT_EQ(refused.error().message, "negative");
  const Expected<void> bad = Error{ErrorCode::invalid, "is empty", "name"};
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().text(), "name: is empty");
}

TEST(Expected, ArrowReachesMembers) {
  const Expected<std::string> text = std::string("abc");
  EXPECT_EQ(text->size(), 3U);
}

TEST(Expected, VoidResultIsSuccessOrTheError) {
  const Expected<void> ok;
  EXPECT_TRUE(ok.has_value());
  const Expected<void> bad = fail(ErrorCode::unavailable, "store is closed");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::unavailable);
  EXPECT_EQ(bad.error().message, "store is closed");
  EXPECT_TRUE(bad.error().path.empty());
}

}  // namespace
}  // namespace vumi
