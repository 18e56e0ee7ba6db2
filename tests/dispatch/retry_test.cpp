// Retries in the dispatcher: a step returning VUMI_STEP_RETRY resumes later at that step with the
// earlier steps' outputs; out of attempts it becomes one retries_exhausted dead letter. Time is
// driven by the test through run_due_retries(now).
#include <boost/json.hpp>
#include <fstream>

#include "dispatch/retry_scheduler.hpp"
#include "dispatch/run_history.hpp"
#include "dispatch_fixture.hpp"
#include "store/sqlite_connection.hpp"

namespace vumi {
namespace {

using testing_support::DispatchTest;

class RetryTest : public DispatchTest {
 protected:
  void SetUp() override {
    plugins = {VUMI_PLUGIN_DIR "/example.so", VUMI_FIXTURE_DIR "/retrying.so"};
    log_file = dir.path() / "attempts.log";
  }

  // first (set_output) -> flaky (retrying) -> note (emit_event carrying both outputs)
  void start_with(int retries, const std::string& retry_policy, std::string extra_flaky_config = "") {
    start(R"({"handlers": {"first": {"type": "set_output"}, "flaky": {"type": "retrying"},
                           "note": {"type": "emit_event"}},
              "accounts": {"acct1": {"conversations": {"conv1": "survey"}, "routes": [
                {"on": {"event_type": "ping"}, "retry": )" +
          retry_policy + R"(, "chain": [
                  {"handler": "first", "as": "first", "config": {"output": {"colour": "blue"}}},
                  {"handler": "flaky", "as": "flaky", "config": {"log_file": ")" +
          log_file.string() + R"(", "retries": )" + std::to_string(retries) + extra_flaky_config + R"(}},
                  {"handler": "note", "config": {"event_type": "done", "event_data": {
                      "colour": "{{/steps/first/colour}}", "attempts": "{{/steps/flaky/attempts}}"}}}]}]}}})");
  }

  std::size_t attempts_logged() const {
    std::ifstream in(log_file);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  std::int64_t delay_of_next_retry(std::int64_t before) const {
    auto due = dispatcher->next_retry_due_ms();
    return due ? *due - before : -1;
  }

  std::filesystem::path log_file;
  static constexpr std::int64_t kFarFuture = std::int64_t{1} << 60;
};

TEST_F(RetryTest, RetriedTwiceThenSucceedsRunsThreeTimesWithGrowingDelaysAndResumesWithEarlierOutputs) {
  start_with(2, R"({"max_attempts": 5, "initial_backoff_ms": 100, "max_backoff_ms": 10000})");
  std::int64_t before = dispatch::RetryScheduler::now_ms();
  send_event("acct1", "survey", "conv1", "ping");
  EXPECT_EQ(attempts_logged(), 1u);
  EXPECT_TRUE(sink.with_prefix("event.acct1.survey.done").empty());
  ASSERT_EQ(dispatcher->retries_waiting(), 1u);
  const std::int64_t first_delay = delay_of_next_retry(before);
  EXPECT_GE(first_delay, 100);
  EXPECT_LT(first_delay, 100 + 5000);  // generous: a loaded machine
  // Not due yet: nothing runs.
  EXPECT_EQ(dispatcher->run_due_retries(before, 10), 0u);
  EXPECT_EQ(store->pending_retries().size(), 1u);

  before = dispatch::RetryScheduler::now_ms();
  EXPECT_EQ(dispatcher->run_due_retries(kFarFuture, 10), 1u);
  EXPECT_EQ(attempts_logged(), 2u);
  const std::int64_t second_delay = delay_of_next_retry(before);
  EXPECT_GE(second_delay, 200);  // doubled
  EXPECT_EQ(store->pending_retries().size(), 1u);

  EXPECT_EQ(dispatcher->run_due_retries(kFarFuture, 10), 1u);
  EXPECT_EQ(attempts_logged(), 3u);
  EXPECT_EQ(dispatcher->retries_waiting(), 0u);
  EXPECT_TRUE(store->pending_retries().empty());

  // The chain finished once, with the first step's output from before the retries.
  auto done = sink.with_prefix("event.acct1.survey.done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].body.at("event_data").at("colour"), "blue");
  EXPECT_EQ(done[0].body.at("event_data").at("attempts"), 3);
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_EQ(dispatcher->counters().retries_scheduled, 2u);
  EXPECT_EQ(dispatcher->counters().retries_run, 2u);
}

// The run history (admin API) shows a retry as a run of the retried event, holding the steps it ran;
// they must not land in the run of whatever event the thread recorded last, nor be lost.
TEST_F(RetryTest, ARetryIsRecordedAsARunOfItsOwnEvent) {
  start_with(1, R"({"max_attempts": 3, "initial_backoff_ms": 0, "max_backoff_ms": 0})");
  dispatch::RunHistory history(10, 100);
  dispatcher->set_observer(&history);
  send_event("acct1", "survey", "conv1", "ping");  // flaky asks for a retry
  send_event("acct1", "survey", "conv1", "pong");  // matches no route: the last run recorded
  ASSERT_EQ(dispatcher->run_due_retries(kFarFuture, 10), 1u);
  dispatcher->set_observer(nullptr);

  // Newest first: note's emitted "done" (no route), the retry, pong, the first attempt.
  const auto runs = history.runs("acct1", {});
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0]->event_type, "done");
  EXPECT_EQ(runs[2]->event_type, "pong");
  EXPECT_TRUE(runs[2]->routes.empty());

  const dispatch::Run& retry = *runs[1];
  const dispatch::Run& first = *runs[3];
  EXPECT_EQ(retry.event_type, "ping");
  EXPECT_EQ(retry.event_id, first.event_id);
  ASSERT_EQ(retry.routes.size(), 1u);
  EXPECT_EQ(retry.routes[0].route, "accounts.acct1.routes[0]");
  EXPECT_TRUE(retry.routes[0].ok);
  ASSERT_EQ(retry.routes[0].steps.size(), 2u);  // from the retried step on
  EXPECT_EQ(retry.routes[0].steps[0].index, 1u);
  EXPECT_EQ(retry.routes[0].steps[0].handler, "flaky");
  EXPECT_EQ(retry.routes[0].steps[1].handler, "note");

  ASSERT_EQ(first.routes.size(), 1u);
  EXPECT_FALSE(first.routes[0].ok);
  ASSERT_EQ(first.routes[0].steps.size(), 2u);  // first, then flaky asking for a retry
  EXPECT_EQ(first.routes[0].steps[1].result, VUMI_STEP_RETRY);
}

TEST_F(RetryTest, AlwaysRetryingBecomesOneRetriesExhaustedDeadLetterListingEachAttempt) {
  start_with(-1, R"({"max_attempts": 3, "initial_backoff_ms": 0, "max_backoff_ms": 0})");
  send_event("acct1", "survey", "conv1", "ping");
  std::int64_t retry_id = 0;  // each attempt's pending retry is a row of its own: the last one's
  for (int i = 0; i < 10 && dispatcher->retries_waiting() > 0; ++i) {
    ASSERT_EQ(store->pending_retries().size(), 1u);
    retry_id = store->pending_retries()[0].id;
    dispatcher->run_due_retries(kFarFuture, 10);
  }
  EXPECT_EQ(attempts_logged(), 3u);
  EXPECT_EQ(dispatcher->retries_waiting(), 0u);
  EXPECT_TRUE(store->pending_retries().empty());
  EXPECT_TRUE(sink.with_prefix("event.acct1.survey.done").empty());

  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "retries_exhausted");
  EXPECT_EQ(letters[0].route, "accounts.acct1.routes[0]");
  EXPECT_EQ(letters[0].step, "chain[1] (handler \"flaky\")");
  EXPECT_EQ(letters[0].topic, "event.acct1.survey.ping");
  // The last attempt ran from the pending retry, not from a message that had just arrived.
  EXPECT_EQ(letters[0].source, "pending retry " + std::to_string(retry_id));
  EXPECT_NE(letters[0].message.find("3 attempt(s)"), std::string::npos) << letters[0].message;
  EXPECT_NE(letters[0].message.find("transport busy (attempt 3)"), std::string::npos) << letters[0].message;
  auto attempts = boost::json::parse(letters[0].attempts).as_array();
  ASSERT_EQ(attempts.size(), 3u);
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    EXPECT_TRUE(attempts[i].as_object().contains("at"));
    EXPECT_EQ(attempts[i].at("error").as_string(), "transport busy (attempt " + std::to_string(i + 1) + ")");
  }
  EXPECT_EQ(dispatcher->counters().retries_exhausted, 1u);
}

TEST_F(RetryTest, DelayHintReplacesTheBackoffUnderTheCap) {
  start_with(-1, R"({"max_attempts": 4, "initial_backoff_ms": 10, "max_backoff_ms": 30000})",
             R"(, "retry_after_ms": 20000)");
  const std::int64_t before = dispatch::RetryScheduler::now_ms();
  send_event("acct1", "survey", "conv1", "ping");
  EXPECT_GE(delay_of_next_retry(before), 20000);
  EXPECT_LT(delay_of_next_retry(before), 25000);
}

TEST_F(RetryTest, DefaultPolicyComesFromLimitsAndPendingRetriesSurviveANewDispatcher) {
  start_with(1, R"({"initial_backoff_ms": 50})");
  // The runtime keeps each account's spec in its route index (config().accounts is moved there).
  const auto account = runtime->routes().account_routes("acct1");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->spec.routes[0].retry.max_attempts, 5u);  // limits.retry's default
  EXPECT_EQ(account->spec.routes[0].retry.initial_backoff_ms, 50u);
  send_event("acct1", "survey", "conv1", "ping");
  ASSERT_EQ(store->pending_retries().size(), 1u);

  // A new dispatcher on the same store (a restart) picks the retry up and finishes the chain.
  dispatcher = std::make_unique<dispatch::Dispatcher>(runtime, *store, sink);
  EXPECT_EQ(dispatcher->retries_waiting(), 0u);
  dispatcher->load_pending_retries();
  EXPECT_EQ(dispatcher->retries_waiting(), 1u);
  EXPECT_EQ(dispatcher->run_due_retries(kFarFuture, 10), 1u);
  auto done = sink.with_prefix("event.acct1.survey.done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].body.at("event_data").at("colour"), "blue");
  EXPECT_TRUE(store->pending_retries().empty());
}

// A step that fails because the state store is locked is retried, not lost: once the lock is
// gone the same event creates its contact.
TEST_F(RetryTest, AStepFailingOnALockedDatabaseIsRetriedAndSucceedsOnceItIsFree) {
  plugins = {VUMI_PLUGIN_DIR "/create_contact.so"};
  start(R"({"handlers": {"contact": {"type": "create_contact"}},
            "accounts": {"acct1": {"conversations": {"conv1": "survey"}, "routes": [
              {"on": {"event_type": "ping"}, "retry": {"max_attempts": 3, "initial_backoff_ms": 10},
               "chain": [{"handler": "contact", "config": {"fields": {"msisdn": "+27820000001"}}}]}]}}})");
  {
    // Another connection holds the write lock (as another process would) for the first attempt.
    store::SqliteConnection other(dir.path() / "vumi.db", SQLITE_OPEN_READWRITE);
    other.exec("PRAGMA busy_timeout = 0");
    other.exec("BEGIN IMMEDIATE");
    send_event("acct1", "survey", "conv1", "ping");
    other.exec("ROLLBACK");
  }
  EXPECT_TRUE(store->contacts("acct1").empty());
  EXPECT_TRUE(dead_letters().empty());
  ASSERT_EQ(dispatcher->retries_waiting(), 1u);  // in memory at least, even if the store refused it
  EXPECT_EQ(dispatcher->run_due_retries(kFarFuture, 10), 1u);
  ASSERT_EQ(store->contacts("acct1").size(), 1u);
  EXPECT_EQ(store->contacts("acct1")[0].msisdn, "+27820000001");
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_TRUE(store->pending_retries().empty());
}

TEST(RetryBackoff, DoublesFromInitialUpToTheCapAndAHintIsCapped) {
  config::RetryPolicy policy;
  policy.initial_backoff_ms = 100;
  policy.max_backoff_ms = 1000;
  using dispatch::RetryScheduler;
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 1, -1), 100);
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 2, -1), 200);
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 3, -1), 400);
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 5, -1), 1000);
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 60, -1), 1000);
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 1, 5000), 1000);
  EXPECT_EQ(RetryScheduler::backoff_ms(policy, 1, 7), 7);
}

}  // namespace
}  // namespace vumi
