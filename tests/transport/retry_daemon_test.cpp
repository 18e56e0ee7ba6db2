// Retries in the running daemon: attempts wait on the loop's timer with growing delays and do not
// hold back other events; a pending retry survives SIGTERM and a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <thread>

#include "daemon_link.hpp"
#include "store/state_store.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::kCompleted;
using testing::kPing;
using testing::TempDir;

std::vector<std::int64_t> attempt_times(const std::filesystem::path& file) {
  std::vector<std::int64_t> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(std::stoll(line));
  return out;
}

bool wait_for_attempts(const std::filesystem::path& file, std::size_t n, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (attempt_times(file).size() >= n) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// acct1: "survey_completed" -> [flaky (retrying fixture), sms]; "ping" -> [sms] (the sentinel).
std::string retry_config(const TempDir& dir, int retries, int initial_backoff_ms) {
  const std::string log_file = (dir.path() / "attempts.log").string();
  std::string cfg = testing::test_config(
      dir.path() / "state",
      R"({"flaky": {"type": "retrying"}, "sms": {"type": "send_sms", "options": {"transport_name": "sms_transport"}}})",
      R"([{"on": {"event_type": "survey_completed"},
           "retry": {"max_attempts": 5, "initial_backoff_ms": )" +
          std::to_string(initial_backoff_ms) + R"(, "max_backoff_ms": 60000},
           "chain": [{"handler": "flaky", "as": "flaky", "config": {"log_file": ")" +
          log_file + R"(", "retries": )" + std::to_string(retries) + R"(}},
                     {"handler": "sms", "config": {"to_addr": "{{/event/event_data/from_addr}}",
                                                   "content": "after {{/steps/flaky/attempts}} attempts"}}]},
          {"on": {"event_type": "ping"}, "chain": [{"handler": "sms", "config": {"to_addr": "+27000000000",
                                                                                  "content": "sentinel"}}]}])");
  const std::string example = std::string(VUMI_PLUGIN_DIR) + "/example.so\"";
  cfg.replace(cfg.find(example), example.size(),
              std::string(VUMI_PLUGIN_DIR) + "/send_sms.so\", \"" + VUMI_FIXTURE_DIR + "/retrying.so\"");
  return cfg;
}

struct RetryDaemon : ::testing::Test, testing::DaemonLink {
  TempDir dir;
};

TEST_F(RetryDaemon, RetriedTwiceThenSucceedsWithGrowingDelaysOneSmsAndOtherEventsNotHeldBack) {
  ASSERT_TRUE(connect(dir.write("config.json", retry_config(dir, 2, 300))));

  ASSERT_TRUE(pub->send("event.acct1.survey.survey_completed", kCompleted));
  ASSERT_TRUE(wait_for_attempts(dir.path() / "attempts.log", 1, 10s));
  // While the event waits for its retry, another event goes straight through.
  ASSERT_TRUE(pub->send("event.acct1.survey.ping", kPing));
  auto first = sub->receive(10s);
  ASSERT_TRUE(first);
  EXPECT_EQ(boost::json::parse(first->body).at("content"), "sentinel");
  EXPECT_LT(attempt_times(dir.path() / "attempts.log").size(), 3u);

  auto sms = sub->receive(30s);
  ASSERT_TRUE(sms) << daemon->process().output();
  EXPECT_EQ(boost::json::parse(sms->body).at("content"), "after 3 attempts");
  // A sentinel after it: had a second SMS been sent for the event, it would have come first.
  ASSERT_TRUE(pub->send("event.acct1.survey.ping", kPing));
  auto after = sub->receive(10s);
  ASSERT_TRUE(after);
  EXPECT_EQ(boost::json::parse(after->body).at("content"), "sentinel");

  const auto times = attempt_times(dir.path() / "attempts.log");
  ASSERT_EQ(times.size(), 3u);
  const auto gap1 = times[1] - times[0];
  const auto gap2 = times[2] - times[1];
  std::printf("retry timings: attempt gaps %lld ms, %lld ms (backoff 300, 600)\n",
              static_cast<long long>(gap1), static_cast<long long>(gap2));
  EXPECT_GE(gap1, 300);
  EXPECT_GE(gap2, 600);
  EXPECT_GT(gap2, gap1);
  daemon->process().signal(SIGTERM);
  EXPECT_EQ(daemon->process().wait_exit(30s), 0);
}

TEST_F(RetryDaemon, PendingRetrySurvivesSigtermAndARestart) {
  const auto config = dir.write("config.json", retry_config(dir, 1, 4000));
  ASSERT_TRUE(connect(config, {}, {"event."}));
  ASSERT_TRUE(pub->send("event.acct1.survey.survey_completed", kCompleted));
  ASSERT_TRUE(wait_for_attempts(dir.path() / "attempts.log", 1, 10s));
  ASSERT_TRUE(daemon->process().wait_for_line("asked for a retry", 10s));
  daemon->process().signal(SIGTERM);
  ASSERT_EQ(daemon->process().wait_exit(30s), 0) << daemon->process().output();
  {
    auto store = store::StateStore::open_read_only(dir.path() / "state");
    ASSERT_EQ(store->pending_retries().size(), 1u);
  }
  EXPECT_EQ(attempt_times(dir.path() / "attempts.log").size(), 1u);

  ASSERT_TRUE(connect(config));  // the restart
  ASSERT_TRUE(daemon->process().wait_for_line("1 pending from an earlier run", 1s));
  auto sms = sub->receive(30s);
  ASSERT_TRUE(sms) << daemon->process().output();
  EXPECT_EQ(boost::json::parse(sms->body).at("content"), "after 2 attempts");
  EXPECT_EQ(attempt_times(dir.path() / "attempts.log").size(), 2u);
  daemon->process().signal(SIGTERM);
  EXPECT_EQ(daemon->process().wait_exit(30s), 0);
  auto store = store::StateStore::open_read_only(dir.path() / "state");
  EXPECT_TRUE(store->pending_retries().empty());
  EXPECT_TRUE(store->dead_letters("").empty());
}

}  // namespace
}  // namespace vumi
