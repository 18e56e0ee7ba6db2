// Dead letters as an operator runs them: coalesced repeats, retention, purge filters, replay
// selection (dry run), pending retries in the store, and --json output that stays valid JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <iostream>
#include <sstream>

#include "backend_state.hpp"
#include "cli/commands.hpp"
#include "cli/json_output.hpp"
#include "command_runner.hpp"
#include "common/json.hpp"
#include "store/state_store.hpp"

namespace vumi {
namespace {

namespace bj = boost::json;
using store::testing::CommandResult;
using store::testing::lines_of;
using ::testing::HasSubstr;

store::DeadLetter letter(std::string reason, std::string account, std::string coalesce_key = "",
                         std::string created_at = "") {
  store::DeadLetter d;
  d.reason = std::move(reason);
  d.message = "why: " + d.reason;
  d.account_key = std::move(account);
  d.input = R"({"n":1})";
  d.topic = "event.acct1.survey.ping";
  d.source = "ingest tcp://127.0.0.1:7710 from 127.0.0.1";
  d.coalesce_key = std::move(coalesce_key);
  d.created_at = std::move(created_at);
  return d;
}

using DeadLetterStoreTest = store::testing::StoreBackendTest;

TEST_P(DeadLetterStoreTest, RepeatsWithTheSameKeyCoalesceIntoOneRowWithCountAndFirstSample) {
  auto first = letter("invalid_json", "", "invalid_json\x1fsrc");
  first.input = "first sample";
  ASSERT_TRUE(store_->dead_letter_put(first).has_value());
  for (int i = 0; i < 999; ++i) {
    auto again = letter("invalid_json", "", "invalid_json\x1fsrc");
    again.input = "later " + std::to_string(i);
    ASSERT_TRUE(store_->dead_letter_put(again).has_value());
  }
  ASSERT_TRUE(store_->dead_letter_put(letter("invalid_json", "", "invalid_json\x1fother")).has_value());
  ASSERT_TRUE(store_->dead_letter_put(letter("step_failed", "acct1")).has_value());
  ASSERT_TRUE(store_->dead_letter_put(letter("step_failed", "acct1")).has_value());
  auto all = store_->dead_letters("");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].count, 1000);
  EXPECT_EQ(all[0].input, "first sample");
  EXPECT_EQ(all[0].source, "ingest tcp://127.0.0.1:7710 from 127.0.0.1");
  EXPECT_GE(all[0].last_seen_at, all[0].created_at);
  EXPECT_EQ(all[1].count, 1);
  EXPECT_EQ(all[2].count, 1);  // work is never coalesced
  EXPECT_EQ(all[3].count, 1);

  // A replayed row takes no more repeats: the next one starts a new row.
  ASSERT_TRUE(store_->dead_letter_mark_replayed(all[0].id, "2026-12-02T05:00:00.000Z").has_value());
  ASSERT_TRUE(store_->dead_letter_put(letter("invalid_json", "", "invalid_json\x1fsrc")).has_value());
  all = store_->dead_letters("");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].replayed_at, "2026-12-02T05:00:00.000Z");
  EXPECT_EQ(all[4].count, 1);
}

TEST_P(DeadLetterStoreTest, FiltersSelectByIdReasonAccountAndTime) {
  ASSERT_TRUE(
      store_->dead_letter_put(letter("step_failed", "acct1", "", "2026-01-01T00:00:00.000Z")).has_value());
  ASSERT_TRUE(
      store_->dead_letter_put(letter("step_failed", "acct2", "", "2026-06-01T00:00:00.000Z")).has_value());
  ASSERT_TRUE(
      store_->dead_letter_put(letter("no_route", "acct1", "", "2026-09-01T00:00:00.000Z")).has_value());
  store::DeadLetterFilter by_reason;
  by_reason.reason = "step_failed";
  EXPECT_EQ(store_->dead_letters(by_reason).size(), 2u);
  store::DeadLetterFilter by_account;
  by_account.account = "acct1";
  EXPECT_EQ(store_->dead_letters(by_account).size(), 2u);
  store::DeadLetterFilter since;
  since.reason = "step_failed";
  since.since = "2026-03-01";
  ASSERT_EQ(store_->dead_letters(since).size(), 1u);
  EXPECT_EQ(store_->dead_letters(since)[0].account_key, "acct2");
  store::DeadLetterFilter by_id;
  by_id.id = store_->dead_letters("")[2].id;
  ASSERT_EQ(store_->dead_letters(by_id).size(), 1u);
  EXPECT_EQ(store_->dead_letters(by_id)[0].reason, "no_route");

  store::DeadLetterFilter older;
  older.older_than = "2026-07-01";
  EXPECT_EQ(store_->dead_letters_purge(older), 2);
  ASSERT_EQ(store_->dead_letters("").size(), 1u);
  EXPECT_EQ(store_->dead_letters("")[0].reason, "no_route");
}

TEST_P(DeadLetterStoreTest, RetentionDeletesOldestBeyondEachLimitInBoundedChunks) {
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(store_->dead_letter_put(letter("step_failed", "acct1")).has_value());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_->dead_letter_put(letter("step_failed", "acct2")).has_value());
  ASSERT_TRUE(store_->dead_letter_put(letter("old", "acct2", "", "2000-01-01T00:00:00.000Z")).has_value());
  store::DeadLetterRetention retention;
  retention.max_rows_per_account = 10;
  retention.max_rows = 12;
  retention.max_age_s = 24 * 3600;
  // At most 7 rows per call: the backlog goes in several small steps.
  auto deleted = store::testing::value_of(store_->dead_letters_prune(retention, 7));
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, 7);
  std::int64_t total = *deleted;
  for (int i = 0; i < 10; ++i) {
    deleted = store::testing::value_of(store_->dead_letters_prune(retention, 7));
    ASSERT_TRUE(deleted);
    total += *deleted;
    if (*deleted == 0) break;
  }
  auto rest = store_->dead_letters("");
  // 36 rows: the old one by age, 20 of acct1 by its account limit, then 3 more by the total.
  EXPECT_EQ(total, 24);
  ASSERT_EQ(rest.size(), 12u);
  for (const auto& d : rest) EXPECT_NE(d.reason, "old");
  // The newest rows are the ones kept.
  EXPECT_EQ(rest.back().account_key, "acct2");
}

TEST_P(DeadLetterStoreTest, PendingRetriesAreKeptEarliestFirstAndDeleted) {
  store::PendingRetry later, sooner;
  later.due_at_ms = 2000;
  later.account_key = sooner.account_key = "acct1";
  later.route = sooner.route = "accounts.acct1.routes[0]";
  later.topic = sooner.topic = "event.acct1.survey.ping";
  later.event = sooner.event = "{}";
  later.steps = sooner.steps = "{}";
  later.attempts = sooner.attempts = "[]";
  sooner.due_at_ms = 1000;
  auto later_id = store::testing::value_of(store_->pending_retry_put(later));
  auto sooner_id = store::testing::value_of(store_->pending_retry_put(sooner));
  ASSERT_TRUE(later_id && sooner_id);
  auto pending = store_->pending_retries();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].id, *sooner_id);
  ASSERT_TRUE(store_->pending_retry_delete(*sooner_id).has_value());
  ASSERT_EQ(store_->pending_retries().size(), 1u);
  EXPECT_EQ(store_->pending_retries()[0].id, *later_id);
}

VUMI_STORE_ON_EVERY_BACKEND(DeadLetterStoreTest);

TEST(JsonOutput, InvalidUtf8IsReplacedInTextAndValidTextIsKept) {
  EXPECT_TRUE(cli::json_output::valid_utf8("plain é ✓ 😀"));
  EXPECT_FALSE(cli::json_output::valid_utf8("bad \xff byte"));
  EXPECT_FALSE(cli::json_output::valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(cli::json_output::valid_utf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(cli::json_output::valid_utf8("cut \xe2\x9c"));  // truncated
  EXPECT_EQ(cli::json_output::text("a\xff"
                                   "b")
                .as_string(),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(cli::json_output::base64("any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
  EXPECT_EQ(cli::json_output::base64(std::string_view("\xff\x00\x01", 3)), "/wAB");
}

// --- the CLI -----------------------------------------------------------------------------------

// The commands read the state the config's "state" block names, on every backend.
class DeadLetterCommandsTest : public store::testing::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    config_ = state_.tmp().write("dispatcher.json", "{\"state\": " + state_.config_json() + "}\n");
  }
  std::unique_ptr<store::StateStore> daemon_store() { return state_.open(); }

  CommandResult run(int (*command)(const cli::DeadLetterOpArgs&), cli::DeadLetterOpArgs args) {
    args.config.config_file = config_;
    return store::testing::run_command(command, args);
  }
  CommandResult list_json() {
    cli::StateArgs args;
    args.config.config_file = config_;
    args.json = true;
    return store::testing::run_command(cli::dead_letters_command, args);
  }

  std::filesystem::path config_;
};

TEST_P(DeadLetterCommandsTest, JsonListingIsValidJsonForInputThatIsNotUtf8) {
  {
    auto store = daemon_store();
    auto bad = letter("invalid_utf8", "", "k");
    bad.input = "{\"account_key\":\"acct1\xff\"}";
    bad.message = "bad byte \xff in \"account_key\"";
    ASSERT_TRUE(store->dead_letter_put(bad).has_value());
    ASSERT_TRUE(store->dead_letter_put(letter("step_failed", "acct1")).has_value());
  }
  auto result = list_json();
  ASSERT_EQ(result.code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    ASSERT_TRUE(cli::json_output::valid_utf8(line)) << line;
    boost::system::error_code ec;
    bj::parse(line, ec);
    EXPECT_FALSE(ec) << line;
  }
  auto bad = bj::parse(lines[0]).as_object();
  EXPECT_TRUE(bad.at("input").is_null());
  EXPECT_EQ(bad.at("input_base64").as_string(), cli::json_output::base64("{\"account_key\":\"acct1\xff\"}"));
  EXPECT_EQ(bad.at("message"), "bad byte \xEF\xBF\xBD in \"account_key\"");
  EXPECT_EQ(bad.at("count"), 1);
  EXPECT_EQ(bad.at("source"), "ingest tcp://127.0.0.1:7710 from 127.0.0.1");
  auto good = bj::parse(lines[1]).as_object();
  EXPECT_EQ(good.at("input"), R"({"n":1})");
  EXPECT_FALSE(good.contains("input_base64"));
}

TEST_P(DeadLetterCommandsTest, PurgeNeedsASelectorAndDeletesOnlyWhatMatches) {
  {
    auto store = daemon_store();
    ASSERT_TRUE(store->dead_letter_put(letter("step_failed", "acct1")).has_value());
    ASSERT_TRUE(store->dead_letter_put(letter("step_failed", "acct2")).has_value());
    ASSERT_TRUE(
        store->dead_letter_put(letter("no_route", "acct1", "", "2000-01-01T00:00:00.000Z")).has_value());
  }
  auto refused = run(cli::dead_letters_purge_command, {});
  EXPECT_EQ(refused.code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--id N, --reason R or --account A, or --older-than D"));

  cli::DeadLetterOpArgs dry;
  dry.account = "acct1";
  dry.dry_run = true;
  auto shown = run(cli::dead_letters_purge_command, dry);
  EXPECT_EQ(shown.code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("2 dead letter(s) would be purged (dry run)"));
  EXPECT_EQ(daemon_store()->dead_letters("").size(), 3u);

  cli::DeadLetterOpArgs older;
  older.older_than = "30d";
  auto purged = run(cli::dead_letters_purge_command, older);
  EXPECT_EQ(purged.code, 0) << purged.err;
  EXPECT_THAT(purged.out, HasSubstr("1 dead letter(s) purged"));

  cli::DeadLetterOpArgs by_reason;
  by_reason.reason = "step_failed";
  by_reason.account = "acct2";
  EXPECT_EQ(run(cli::dead_letters_purge_command, by_reason).code, 0);
  auto rest = daemon_store()->dead_letters("");
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].account_key, "acct1");

  cli::DeadLetterOpArgs bad_time;
  bad_time.reason = "x";
  bad_time.since = "yesterday";
  auto bad = run(cli::dead_letters_purge_command, bad_time);
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("neither a duration"));
}

TEST_P(DeadLetterCommandsTest, ReplayDryRunSelectsUnreplayedLettersItCanResubmit) {
  {
    auto store = daemon_store();
    ASSERT_TRUE(store->dead_letter_put(letter("step_failed", "acct1")).has_value());
    auto cut = letter("step_failed", "acct1");
    cut.input = "{\"n\":1...(truncated)";
    ASSERT_TRUE(store->dead_letter_put(cut).has_value());
    auto old = letter("step_failed", "acct1");
    old.topic.clear();
    ASSERT_TRUE(store->dead_letter_put(old).has_value());
    ASSERT_TRUE(store->dead_letter_put(letter("step_failed", "acct1")).has_value());
    ASSERT_TRUE(
        store->dead_letter_mark_replayed(store->dead_letters("").back().id, "2026-01-01T00:00:00.000Z")
            .has_value());
  }
  cli::DeadLetterOpArgs args;
  args.reason = "step_failed";
  args.dry_run = true;
  auto result = run(cli::dead_letters_replay_command, args);
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("would replay 1 "));
  EXPECT_THAT(result.out, HasSubstr("skip 2 (step_failed, account acct1): its input was cut"));
  EXPECT_THAT(result.out, HasSubstr("skip 3 (step_failed, account acct1): no topic was recorded"));
  EXPECT_THAT(result.out, HasSubstr("1 dead letter(s) would be replayed (dry run)"));
  for (const auto& d : daemon_store()->dead_letters("")) EXPECT_EQ(d.replayed_at.empty(), d.id != 4);
}

VUMI_STORE_ON_EVERY_BACKEND(DeadLetterCommandsTest);

}  // namespace
}  // namespace vumi
