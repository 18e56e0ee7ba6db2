// The contacts, inbox and dead-letters commands, called directly on a temp config and state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "backend_state.hpp"
#include "cli/commands.hpp"
#include "command_runner.hpp"
#include "common/json.hpp"
#include "store/state_store.hpp"

namespace vumi::cli {
namespace {

namespace bj = boost::json;
using store::testing::CommandResult;
using store::testing::lines_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The commands on every backend: the config's "state" block names a fresh state of the backend,
// which the daemon has not written yet.
class StateCommandsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!state_.skip_reason().empty()) GTEST_SKIP() << state_.skip_reason();
    config_ = tmp_.write("dispatcher.json",
                         "{\n  // state for this test only\n  \"state\": " + state_.config_json() + ",\n}\n");
  }

  // Opens the state as the daemon would, creating it.
  std::unique_ptr<store::StateStore> daemon_store() { return state_.open(); }

  CommandResult run(int (*command)(const StateArgs&), std::string account = "", bool as_json = false) {
    StateArgs args;
    args.config.config_file = config_;
    args.account = std::move(account);
    args.json = as_json;
    return store::testing::run_command(command, args);
  }

  void add_contacts() {
    auto store = daemon_store();
    ASSERT_TRUE(store::testing::value_of(store->contact_upsert(
        "acct1", {{"msisdn", "+27821234567"}, {"name", "Thandi"}, {"extra", {{"lang", "zu"}}}})));
    ASSERT_TRUE(store::testing::value_of(
        store->contact_upsert("acct2", {{"msisdn", "+27820000002"}, {"surname", "Mokoena"}})));
  }

  store::testing::BackendState state_{GetParam()};
  const store::testing::TempDir& tmp_ = state_.tmp();
  std::filesystem::path config_;
};

// Run once, on sqlite: config errors do not depend on the backend, and vumi.db files are SQLite's.
using SqliteStateCommandsTest = StateCommandsTest;

TEST_P(StateCommandsTest, ContactsTableIsAlignedWithOneRowPerContact) {
  add_contacts();
  auto result = run(contacts_command);
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_THAT(lines[0], StartsWith("account  contact_key"));
  const auto msisdn_column = lines[0].find("msisdn");
  const auto extra_column = lines[0].find("extra");
  EXPECT_EQ(lines[1].find("+27821234567"), msisdn_column);
  EXPECT_EQ(lines[2].find("+27820000002"), msisdn_column);
  EXPECT_EQ(lines[1].find(R"({"lang":"zu"})"), extra_column);
  EXPECT_THAT(lines[1], StartsWith("acct1"));
  EXPECT_THAT(lines[1], HasSubstr("Thandi"));
  EXPECT_THAT(lines[2], HasSubstr("Mokoena"));
}

TEST_P(StateCommandsTest, AccountFilterShowsOnlyThatAccount) {
  add_contacts();
  auto result = run(contacts_command, "acct2");
  EXPECT_EQ(result.code, 0);
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_THAT(lines[1], StartsWith("acct2"));
}

TEST_P(StateCommandsTest, ContactsAsJsonLinesCarryEveryField) {
  add_contacts();
  auto result = run(contacts_command, "", true);
  EXPECT_EQ(result.code, 0);
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u);
  auto first = bj::parse(lines[0]).as_object();
  EXPECT_EQ(first.at("account_key"), "acct1");
  EXPECT_EQ(first.at("msisdn"), "+27821234567");
  EXPECT_EQ(first.at("name"), "Thandi");
  EXPECT_EQ(first.at("surname"), "");
  EXPECT_EQ(first.at("extra"), bj::parse(R"({"lang": "zu"})"));
  EXPECT_EQ(first.at("contact_key").as_string().size(), 32u);
  EXPECT_TRUE(first.contains("created_at"));
  EXPECT_TRUE(first.contains("updated_at"));
}

TEST_P(StateCommandsTest, EmptyStateSaysSo) {
  daemon_store();
  EXPECT_EQ(run(contacts_command).out, "no contacts\n");
  EXPECT_EQ(run(inbox_command).out, "no inbox entries\n");
  EXPECT_EQ(run(dead_letters_command, "acct9").out, "no dead letters for account acct9\n");
  auto as_json = run(contacts_command, "", true);
  EXPECT_EQ(as_json.code, 0);
  EXPECT_EQ(as_json.out, "") << "JSON lines output has no lines, not a sentence";
}

TEST_P(StateCommandsTest, InboxTableShowsAddressesAndTruncatesContent) {
  {
    auto store = daemon_store();
    ASSERT_TRUE(store::testing::value_of(store->inbox_put(
        "acct1", bj::parse(R"({"from_addr": "+27821234567", "to_addr": "12345", "content": ")" +
                           std::string(100, 'x') + R"("})"))));
    ASSERT_TRUE(store::testing::value_of(
        store->inbox_put("acct1", bj::parse(R"({"content": "line one\nline two", "to_addr": null})"))));
  }
  auto result = run(inbox_command);
  EXPECT_EQ(result.code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_THAT(lines[0], StartsWith("id  account  received_at"));
  EXPECT_THAT(lines[1], HasSubstr("+27821234567  12345"));
  EXPECT_THAT(lines[1], HasSubstr(std::string(60, 'x') + "…"));
  EXPECT_THAT(lines[1], ::testing::Not(HasSubstr(std::string(61, 'x'))));
  EXPECT_THAT(lines[2], HasSubstr("line one\\nline two")) << "a message stays on its row";

  auto as_json = run(inbox_command, "acct1", true);
  auto entries = lines_of(as_json.out);
  ASSERT_EQ(entries.size(), 2u);
  auto second = bj::parse(entries[1]).as_object();
  EXPECT_EQ(second.at("account_key"), "acct1");
  EXPECT_EQ(second.at("message"), bj::parse(R"({"content": "line one\nline two", "to_addr": null})"));
  EXPECT_GT(second.at("id").as_int64(), bj::parse(entries[0]).at("id").as_int64());
}

TEST_P(StateCommandsTest, DeadLettersTableAndJson) {
  {
    auto store = daemon_store();
    store::DeadLetter failed;
    failed.reason = "step_failed";
    failed.message = "to_addr: pointer /steps/contact/msisdn resolves to nothing";
    failed.account_key = "acct1";
    failed.route = "accounts.acct1.routes[0]";
    failed.step = "chain[1]";
    failed.input = R"({"event_type":"poll_complete"})";
    ASSERT_TRUE(store->dead_letter_put(failed).has_value());
    store::DeadLetter unowned;
    unowned.reason = "unowned_tag";
    unowned.message = "no account owns tag longcode:999";
    unowned.input = "{}";
    ASSERT_TRUE(store->dead_letter_put(unowned).has_value());
  }
  auto result = run(dead_letters_command);
  EXPECT_EQ(result.code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_THAT(lines[0], StartsWith("id  created_at"));
  EXPECT_THAT(lines[1], HasSubstr("acct1"));
  EXPECT_THAT(lines[1], HasSubstr("accounts.acct1.routes[0]  chain[1]"));
  EXPECT_THAT(lines[1], HasSubstr("resolves to nothing"));
  EXPECT_THAT(lines[2], HasSubstr("unowned_tag"));

  auto filtered = run(dead_letters_command, "acct1", true);
  auto json_lines = lines_of(filtered.out);
  ASSERT_EQ(json_lines.size(), 1u);
  auto letter = bj::parse(json_lines[0]).as_object();
  EXPECT_EQ(letter.at("reason"), "step_failed");
  EXPECT_EQ(letter.at("step"), "chain[1]");
  EXPECT_EQ(letter.at("input"), R"({"event_type":"poll_complete"})");

  auto all = lines_of(run(dead_letters_command, "", true).out);
  ASSERT_EQ(all.size(), 2u);
  auto unowned = bj::parse(all[1]).as_object();
  EXPECT_TRUE(unowned.at("account_key").is_null());
  EXPECT_TRUE(unowned.at("route").is_null());
  EXPECT_TRUE(unowned.at("step").is_null());
}

TEST_P(StateCommandsTest, StateTheDaemonNeverWroteIsAnError) {
  auto result = run(contacts_command);
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, StartsWith("vumi-dispatcher contacts: no state "));
  EXPECT_THAT(result.err, HasSubstr("the daemon has not run with this"));
}

TEST_P(SqliteStateCommandsTest, StateTheDaemonNeverWroteIsAnErrorNamingTheFile) {
  auto result = run(contacts_command);
  EXPECT_EQ(result.err, "vumi-dispatcher contacts: no state at " + (tmp_ / "state/vumi.db").string() +
                            " (the daemon has not run with this state_dir)\n");
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "state"));
}

TEST_P(SqliteStateCommandsTest, MissingConfigFileIsAnError) {
  config_ = tmp_ / "absent.json";
  auto result = run(inbox_command);
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("absent.json"));
}

TEST_P(SqliteStateCommandsTest, BadStateDirInConfigIsAnError) {
  tmp_.write("dispatcher.json", R"({"state_dir": 5})");
  auto result = run(inbox_command);
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("state_dir"));
}

TEST_P(StateCommandsTest, BadAccountKeyIsAnError) {
  daemon_store();
  auto result = run(contacts_command, "a.b");
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--account \"a.b\""));
}

TEST_P(SqliteStateCommandsTest, CorruptDatabaseIsAnError) {
  tmp_.write("state/vumi.db", std::string(2048, 'g'));
  auto result = run(dead_letters_command);
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("file is not a database"));
}

TEST_P(StateCommandsTest, ExecutableRunsTheCommand) {
  if (!std::filesystem::exists(VUMI_DISPATCHER_EXE)) GTEST_SKIP() << "not built: " << VUMI_DISPATCHER_EXE;
  add_contacts();
  const std::string command =
      std::string(VUMI_DISPATCHER_EXE) + " contacts -c '" + config_.string() + "' --account acct1 --json";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(bj::parse(lines[0]).at("msisdn"), "+27821234567");
}

VUMI_STORE_ON_EVERY_BACKEND(StateCommandsTest);
VUMI_STORE_ON_BACKENDS(SqliteStateCommandsTest, std::string("sqlite"));

}  // namespace
}  // namespace vumi::cli
