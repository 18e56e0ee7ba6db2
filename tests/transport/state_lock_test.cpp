// One daemon per state_dir: a second one exits 1 naming the first one's PID, while the read-only
// inspection commands keep working next to the running daemon.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "daemon_process.hpp"

namespace vumi {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Daemon;
using testing::TempDir;

const std::string kHandlers = R"({"noop": {"type": "noop"}})";
const std::string kRoutes = R"([{"on": {"event_type": "ping"}, "chain": [{"handler": "noop"}]}])";

TEST(StateLock, ASecondDaemonOnTheSameStateDirExitsNamingTheFirstOnesPid) {
  TempDir dir;
  const auto state = dir.path() / "state";
  const auto first_config = dir.write("first.json", testing::test_config(state, kHandlers, kRoutes));
  Daemon first(first_config);
  ASSERT_TRUE(first.listening()) << first.process().output();

  // Its own ephemeral ports, the same state_dir.
  ChildProcess second({VUMI_DISPATCHER_EXE, "run", "-c",
                       dir.write("second.json", testing::test_config(state, kHandlers, kRoutes)).string()});
  EXPECT_EQ(second.wait_exit(30s), 1) << second.output();
  EXPECT_NE(second.output().find("in use by another vumi-dispatcher (pid " +
                                 std::to_string(first.process().pid()) + ","),
            std::string::npos)
      << second.output();
  EXPECT_EQ(second.output().find("listening:"), std::string::npos);

  // Inspection opens the database read-only and takes no lock.
  ChildProcess contacts({VUMI_DISPATCHER_EXE, "contacts", "-c", first_config.string()});
  EXPECT_EQ(contacts.wait_exit(30s), 0) << contacts.output();
  ChildProcess letters({VUMI_DISPATCHER_EXE, "dead-letters", "-c", first_config.string()});
  EXPECT_EQ(letters.wait_exit(30s), 0) << letters.output();

  struct stat st {};
  ASSERT_EQ(::stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((state / "vumi.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  first.process().signal(SIGTERM);
  ASSERT_EQ(first.process().wait_exit(30s), 0) << first.process().output();
  // Once the first has stopped, the folder is free again.
  Daemon third(dir.write("third.json", testing::test_config(state, kHandlers, kRoutes)));
  EXPECT_TRUE(third.listening()) << third.process().output();
  third.process().signal(SIGTERM);
  EXPECT_EQ(third.process().wait_exit(30s), 0);
}

}  // namespace
}  // namespace vumi
