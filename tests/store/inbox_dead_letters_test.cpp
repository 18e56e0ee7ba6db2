// Inbox, dead letters, batches, and the generated values (timestamps, keys).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <set>

#include "backend_state.hpp"
#include "store/state_store.hpp"
#include "store/store_values.hpp"

namespace vumi::store {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;

DeadLetter letter(std::string reason, std::string message, std::string account) {
  DeadLetter out;
  out.reason = std::move(reason);
  out.message = std::move(message);
  out.account_key = std::move(account);
  return out;
}

using StoreTest = testing::StoreBackendTest;

TEST_P(StoreTest, InboxPutReturnsIncreasingIdsAndListsOldestFirst) {
  auto first =
      testing::value_of(store_->inbox_put("acct1", bj::parse(R"({"content": "hello", "to_addr": "12345"})")));
  auto second = testing::value_of(store_->inbox_put("acct2", bj::parse(R"({"content": "other account"})")));
  auto third = testing::value_of(
      store_->inbox_put("acct1", bj::parse(R"({"content": "again", "n": [1, 2.5, null]})")));
  ASSERT_TRUE(first && second && third);
  EXPECT_LT(*first, *second);
  EXPECT_LT(*second, *third);

  auto acct1 = store_->inbox("acct1");
  ASSERT_EQ(acct1.size(), 2u);
  EXPECT_EQ(acct1[0].id, *first);
  EXPECT_EQ(acct1[0].account_key, "acct1");
  EXPECT_EQ(acct1[0].message, bj::parse(R"({"content": "hello", "to_addr": "12345"})"));
  EXPECT_TRUE(
      std::regex_match(acct1[0].received_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(acct1[1].message, bj::parse(R"({"content": "again", "n": [1, 2.5, null]})"));
  EXPECT_EQ(store_->inbox("").size(), 3u);
  EXPECT_TRUE(store_->inbox("acct3").empty());
}

TEST_P(StoreTest, InboxPutWithoutAccountFails) {
  const Expected<std::int64_t> put = store_->inbox_put("", bj::object{});
  ASSERT_FALSE(put.has_value());
  EXPECT_THAT(put.error().message, HasSubstr("account key is empty"));
}

TEST_P(StoreTest, DeadLettersKeepEveryFieldAndFilterByAccount) {
  DeadLetter step_failed = letter("step_failed", "send_sms: to_addr is empty", "acct1");
  step_failed.route = "accounts.acct1.routes[0]";
  step_failed.step = "chain[1] (handler \"sms\")";
  step_failed.input = R"({"event_type":"poll_complete"})";
  DeadLetter unowned = letter("unowned_tag", "no account owns tag pool:x", "");
  unowned.created_at = "2026-11-27T03:39:50.123Z";
  unowned.input = "raw \x01 bytes";
  DeadLetter other = step_failed;
  other.account_key = "acct2";
  for (const auto& letter : {step_failed, unowned, other}) {
    auto put = store_->dead_letter_put(letter);
    ASSERT_TRUE(put.has_value()) << put.error().message;
  }

  auto all = store_->dead_letters("");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].reason, "step_failed");
  EXPECT_EQ(all[0].message, step_failed.message);
  EXPECT_EQ(all[0].account_key, "acct1");
  EXPECT_EQ(all[0].route, step_failed.route);
  EXPECT_EQ(all[0].step, step_failed.step);
  EXPECT_EQ(all[0].input, step_failed.input);
  EXPECT_TRUE(std::regex_match(all[0].created_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << "set by the store when empty: " << all[0].created_at;
  EXPECT_EQ(all[1].created_at, "2026-11-27T03:39:50.123Z");
  EXPECT_EQ(all[1].account_key, "");
  EXPECT_EQ(all[1].route, "");
  EXPECT_EQ(all[1].step, "");
  EXPECT_EQ(all[1].input, "raw \x01 bytes");
  EXPECT_LT(all[0].id, all[1].id);

  auto acct1 = store_->dead_letters("acct1");
  ASSERT_EQ(acct1.size(), 1u);
  EXPECT_EQ(acct1[0].id, all[0].id);
  ASSERT_EQ(store_->dead_letters("acct2").size(), 1u);
}

TEST_P(StoreTest, BatchWritesBecomeVisibleToOthersOnlyAtCommit) {
  auto reader = state_.open_read_only();
  ASSERT_TRUE(store_->begin_batch().has_value());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(testing::value_of(store_->contact_upsert("acct1", {{"msisdn", std::to_string(1000 + i)}})));
    ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", bj::object{{"n", i}})));
  }
  ASSERT_TRUE(store_->dead_letter_put(letter("max_depth", "depth 9 > 8", "acct1")).has_value());
  // The batch's own connection reads its writes; another connection does not see them yet.
  EXPECT_EQ(store_->contacts("acct1").size(), 100u);
  EXPECT_TRUE(reader->contacts("acct1").empty());
  EXPECT_TRUE(reader->inbox("acct1").empty());

  auto committed = store_->commit_batch();
  ASSERT_TRUE(committed.has_value()) << committed.error().message;
  EXPECT_EQ(reader->contacts("acct1").size(), 100u);
  EXPECT_EQ(reader->inbox("acct1").size(), 100u);
  EXPECT_EQ(reader->dead_letters("acct1").size(), 1u);
}

TEST_P(StoreTest, AFailedWriteInsideABatchDoesNotLoseTheOthers) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  EXPECT_TRUE(store_->contact_upsert("acct1", {{"msisdn", "1"}}).has_value());
  EXPECT_FALSE(store_->contact_upsert("acct1", {{"msisdn", 1}}).has_value());
  EXPECT_TRUE(store_->contact_upsert("acct1", {{"msisdn", "2"}}).has_value());
  ASSERT_TRUE(store_->commit_batch().has_value());
  EXPECT_EQ(state_.open_read_only()->contacts("acct1").size(), 2u);
}

TEST_P(StoreTest, BatchMisuseIsReportedNotThrown) {
  EXPECT_THAT(store_->commit_batch().error().message, HasSubstr("no batch is open"));
  ASSERT_TRUE(store_->begin_batch().has_value());
  EXPECT_THAT(store_->begin_batch().error().message, HasSubstr("already open"));
  EXPECT_TRUE(store_->commit_batch().has_value());
  EXPECT_TRUE(store_->begin_batch().has_value()) << "a new batch can start after a commit";
  EXPECT_TRUE(store_->commit_batch().has_value());
}

TEST_P(StoreTest, WritesOutsideABatchAreVisibleAtOnce) {
  auto reader = state_.open_read_only();
  ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", bj::object{{"n", 1}})));
  EXPECT_EQ(reader->inbox("acct1").size(), 1u);
}

TEST_P(StoreTest, ClosingWithAnOpenBatchKeepsItsWrites) {
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(testing::value_of(store_->inbox_put("acct1", bj::object{{"n", 1}})));
  store_.reset();
  EXPECT_EQ(state_.open_read_only()->inbox("acct1").size(), 1u);
}

VUMI_STORE_ON_EVERY_BACKEND(StoreTest);

TEST(StoreValues, TimestampsAreIso8601UtcWithMilliseconds) {
  using namespace std::chrono;
  // 2026-11-27T03:39:50.123Z
  system_clock::time_point when{milliseconds(1795750790123)};
  EXPECT_EQ(iso8601_utc_ms(when), "2026-11-27T03:39:50.123Z");
  EXPECT_EQ(iso8601_utc_ms(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc_ms(system_clock::time_point{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
}

TEST(StoreValues, ContactKeysAre32LowercaseHexChars) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto key = random_contact_key();
    ASSERT_TRUE(std::regex_match(key, std::regex("[0-9a-f]{32}"))) << key;
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace vumi::store
