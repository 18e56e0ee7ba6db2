#include "dispatch/run_history.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "dispatch_fixture.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::dispatch {
namespace {

// Records runs as the chain runner reports them, for events of acct1 and acct2.
class RunHistoryTest : public ::testing::Test {
 protected:
  RunHistoryTest() {
    for (std::size_t r = 0; r < 2; ++r) {
      routes[r].spec = &route_specs[r];
      routes[r].order = r;
    }
    for (std::size_t s = 0; s < 2; ++s) {
      step_specs[s].handler = s == 0 ? "first_handler_with_a_long_name" : "second";
      steps[s].spec = &step_specs[s];
    }
    accounts[0].key = "acct1";
    accounts[1].key = "acct2";
  }

  event::Envelope decode(std::size_t account, const std::string& event_id, const std::string& event_type,
                         const std::string& event_data = "{}") {
    const std::string& key = accounts[account].key;
    const std::string body = R"({"account_key":")" + key +
                             R"(","conversation_key":"c1","conversation_type":"t",)" + R"("event_type":")" +
                             event_type + R"(","event_id":")" + event_id +
                             R"(","timestamp":"2026-12-03 10:00:00.000000","event_data":)" + event_data + "}";
    auto decoded = decoder.decode("event." + key + ".t." + event_type, body);
    return std::get<event::Envelope>(std::move(decoded).value());
  }

  // One event through `routes_run` routes of the given step errors ("" for a step that continued).
  void record(RunHistory& history, std::size_t account, const event::Envelope& event,
              const std::vector<std::vector<std::string>>& routes_run) {
    if (routes_run.empty()) {
      history.event_unrouted(accounts[account], event);
      return;
    }
    history.event_started(accounts[account], event);
    for (std::size_t r = 0; r < routes_run.size(); ++r) {
      history.route_started(routes[r], accounts[account], event);
      bool ok = true;
      for (std::size_t s = 0; s < routes_run[r].size(); ++s) {
        const std::string& error = routes_run[r][s];
        ok = ok && error.empty();
        history.step_done(StepRecord{
            s, &steps[s], {}, error.empty() ? VUMI_STEP_CONTINUE : VUMI_STEP_FAIL, nullptr, error, 0.001});
      }
      history.route_done(ok);
    }
  }

  testing_support::TwoAccounts directory;
  event::EnvelopeDecoder decoder{{}, &directory};
  config::RouteSpec route_specs[2];
  Route routes[2];
  config::StepSpec step_specs[2];
  Step steps[2];
  Account accounts[2];
};

TEST_F(RunHistoryTest, KeepsEachAccountsNewestRunsNewestFirst) {
  RunHistory history(3, 100);
  for (int i = 1; i <= 5; ++i) record(history, 0, decode(0, "e" + std::to_string(i), "ev"), {{""}});
  const auto runs = history.runs("acct1", {});
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0]->event_id, "e5");
  EXPECT_EQ(runs[1]->event_id, "e4");
  EXPECT_EQ(runs[2]->event_id, "e3");
  EXPECT_GT(runs[0]->sequence, runs[1]->sequence);
  EXPECT_EQ(history.find("acct1", "e1"), nullptr);
  ASSERT_NE(history.find("acct1", "e4"), nullptr);
}

// Runs that leave the history are written over by the next ones (run_history.hpp): a recorded
// run must show its own event, routes and steps, and nothing of the run whose memory it reuses.
TEST_F(RunHistoryTest, ARunWrittenOverAnOldOneKeepsNothingOfIt) {
  RunHistory history(1, 100);
  record(history, 0, decode(0, "old-event", "first", R"({"a":"a long enough value to be on the heap"})"),
         {{"", "step failed: a long error text that needs the heap"}, {""}});
  {
    const auto runs = history.runs("acct1", {});
    ASSERT_EQ(runs.size(), 1u);
    ASSERT_EQ(runs[0]->routes.size(), 2u);
    EXPECT_FALSE(runs[0]->ok());
    EXPECT_EQ(runs[0]->routes[0].steps[1].error, "step failed: a long error text that needs the heap");
  }

  record(history, 0, decode(0, "unrouted-one", "second"), {});
  auto runs = history.runs("acct1", {});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]->event_id, "unrouted-one");
  EXPECT_EQ(runs[0]->event_type, "second");
  EXPECT_TRUE(runs[0]->routes.empty());
  EXPECT_EQ(boost::json::parse(runs[0]->event).at("event_data"), boost::json::parse("{}"));
  EXPECT_EQ(RunHistory::to_json(*runs[0]).at("status"), "unrouted");

  record(history, 0, decode(0, "third-event", "third"), {{"", ""}});
  runs = history.runs("acct1", {});
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(runs[0]->routes.size(), 1u);
  const RunRoute& route = runs[0]->routes[0];
  EXPECT_EQ(route.route, "accounts.acct1.routes[0]");
  EXPECT_TRUE(route.ok);
  ASSERT_EQ(route.steps.size(), 2u);
  EXPECT_EQ(route.steps[0].handler, "first_handler_with_a_long_name");
  EXPECT_EQ(route.steps[1].handler, "second");
  EXPECT_EQ(route.steps[1].result, VUMI_STEP_CONTINUE);
  EXPECT_TRUE(route.steps[1].error.empty());
  EXPECT_EQ(boost::json::parse(runs[0]->event).at("event_id"), "third-event");
  EXPECT_EQ(RunHistory::to_json(*runs[0]).at("status"), "ok");
}

TEST_F(RunHistoryTest, AnEventOverTheSizeLimitIsRecordedWithoutItsText) {
  RunHistory history(1, 100);
  record(history, 0, decode(0, "small", "e"), {{""}});
  const std::string big(RunHistory::kMaxEventBytes, 'x');
  record(history, 0, decode(0, "big", "e", R"({"text":")" + big + R"("})"), {{""}});
  auto runs = history.runs("acct1", {});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]->event_id, "big");
  EXPECT_TRUE(runs[0]->event.empty());

  record(history, 0, decode(0, "small-again", "e"), {{""}});
  runs = history.runs("acct1", {});
  EXPECT_EQ(boost::json::parse(runs[0]->event).at("event_id"), "small-again");
}

TEST_F(RunHistoryTest, TheBoundInAllDropsTheOldestRunsOfAnyAccount) {
  RunHistory history(10, 3);
  record(history, 0, decode(0, "a1", "e"), {{""}});
  record(history, 0, decode(0, "a2", "e"), {{""}});
  record(history, 1, decode(1, "b1", "e"), {});
  record(history, 1, decode(1, "b2", "e"), {{"failed"}});
  const auto first = history.runs("acct1", {});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]->event_id, "a2");
  const auto second = history.runs("acct2", {});
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0]->event_id, "b2");
  EXPECT_FALSE(second[0]->ok());
  EXPECT_TRUE(second[1]->routes.empty());

  // Runs written over the dropped ones are the new events' own.
  record(history, 0, decode(0, "a3", "e"), {{""}});
  record(history, 0, decode(0, "a4", "e"), {{""}});
  const auto now = history.runs("acct1", {});
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0]->event_id, "a4");
  EXPECT_EQ(now[1]->event_id, "a3");
  EXPECT_TRUE(now[0]->ok());
  const auto other = history.runs("acct2", {});
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0]->event_id, "b2");
}

// A thread finds its open run without the mutex through a one-entry cache: a thread that writes to
// two histories in turn must still put each step in its own history's run.
TEST_F(RunHistoryTest, TwoHistoriesWrittenInTurnOnOneThreadKeepTheirOwnSteps) {
  RunHistory first(10, 100);
  RunHistory second(10, 100);
  const event::Envelope event = decode(0, "e1", "ev");
  first.event_started(accounts[0], event);
  first.route_started(routes[0], accounts[0], event);
  second.event_started(accounts[0], event);
  second.route_started(routes[0], accounts[0], event);
  first.step_done(StepRecord{0, &steps[0], {}, VUMI_STEP_CONTINUE, nullptr, "", 0.001});
  second.step_done(StepRecord{0, &steps[0], {}, VUMI_STEP_FAIL, nullptr, "second's failure", 0.001});
  first.route_done(true);
  second.route_done(false);

  const auto mine = first.runs("acct1", {});
  ASSERT_EQ(mine.size(), 1u);
  ASSERT_EQ(mine[0]->routes.size(), 1u);
  ASSERT_EQ(mine[0]->routes[0].steps.size(), 1u);
  EXPECT_TRUE(mine[0]->routes[0].ok);
  EXPECT_TRUE(mine[0]->routes[0].steps[0].error.empty());
  const auto theirs = second.runs("acct1", {});
  ASSERT_EQ(theirs.size(), 1u);
  ASSERT_EQ(theirs[0]->routes[0].steps.size(), 1u);
  EXPECT_FALSE(theirs[0]->routes[0].ok);
  EXPECT_EQ(theirs[0]->routes[0].steps[0].error, "second's failure");
}

// Steps are written without the mutex, so neither bound may retire a run another thread is still
// writing: here another thread records three runs of the same account past a bound of one while
// this thread's run is open, and this thread's step must still land in its own run.
TEST_F(RunHistoryTest, AnOpenRunIsNotRetiredUnderTheThreadWritingIt) {
  RunHistory history(1, 100);
  const event::Envelope mine = decode(0, "mine", "ev");
  history.event_started(accounts[0], mine);
  history.route_started(routes[0], accounts[0], mine);
  std::thread other([&] {
    for (int i = 0; i < 3; ++i) record(history, 0, decode(0, "other" + std::to_string(i), "ev"), {{""}});
  });
  other.join();
  history.step_done(StepRecord{0, &steps[0], {}, VUMI_STEP_FAIL, nullptr, "mine failed", 0.001});
  history.route_done(false);

  const dispatch::Run* run = history.find("acct1", "mine");
  ASSERT_NE(run, nullptr);
  ASSERT_EQ(run->routes.size(), 1u);
  ASSERT_EQ(run->routes[0].steps.size(), 1u);
  EXPECT_EQ(run->routes[0].steps[0].error, "mine failed");
  for (const dispatch::Run* recorded : history.runs("acct1", {})) {
    if (recorded == run) continue;
    ASSERT_EQ(recorded->routes.size(), 1u) << recorded->event_id;
    for (const RunStep& step : recorded->routes[0].steps)
      EXPECT_TRUE(step.error.empty()) << recorded->event_id;
  }
}

// Two dispatch threads, one account each, record at once under small bounds (runs are retired and
// their memory reused all the time): every run kept holds its own event's step and nothing else.
TEST_F(RunHistoryTest, RunsRecordedByTwoThreadsAtOnceEachHoldTheirOwnSteps) {
  RunHistory history(5, 8);
  auto worker = [&](std::size_t account, const std::string& prefix) {
    for (int i = 0; i < 2000; ++i) {
      const std::string id = prefix + std::to_string(i);
      record(history, account, decode(account, id, "ev"), {{id}});  // the step's error names its event
    }
  };
  std::thread first(worker, 0, "a");
  std::thread second(worker, 1, "b");
  first.join();
  second.join();
  for (const char* key : {"acct1", "acct2"}) {
    const auto runs = history.runs(key, {});
    ASSERT_FALSE(runs.empty()) << key;
    for (const dispatch::Run* run : runs) {
      ASSERT_EQ(run->routes.size(), 1u) << run->event_id;
      ASSERT_EQ(run->routes[0].steps.size(), 1u) << run->event_id;
      EXPECT_EQ(run->routes[0].steps[0].error, run->event_id);
    }
  }
}

}  // namespace
}  // namespace vumi::dispatch
