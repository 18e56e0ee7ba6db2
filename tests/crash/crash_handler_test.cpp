// The crash handler in a forked child (GoogleTest death tests): what it writes to the log and to
// the crash record, read back here as the next start would.
#include "crash/crash_handler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <random>
#include <thread>

#include "crash/crash_record.hpp"
#include "crash/in_flight.hpp"
#include "crash/message_key.hpp"
#include "crash/quarantine_list.hpp"

namespace vumi::crash {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("vumi-crash-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

int* volatile g_null = nullptr;

[[noreturn]] void crash_in_step(const std::filesystem::path& dir, bool json_log) {
  static CrashRecordFile record(dir);
  static InFlight in_flight;
  install_crash_handler(record.layout(), in_flight, json_log);
  static const std::string topic = "event.acct1.survey.ping";
  static const std::string body = R"({"event_id":"e-1","event_data":{"crash":true}})";
  in_flight.begin_message(topic, body);
  in_flight.set_message_event_id("e-1");
  in_flight.begin_event("acct1", "e-1");
  in_flight.begin_step("some_plugin", "some_type", "boom", 0, 1);
  *g_null = 1;
  std::abort();  // not reached
}

TEST(CrashHandler, SegfaultInAStepIsLoggedAndRecorded) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles SIGSEGV itself";
#endif
  TempDir dir;
  EXPECT_EXIT(
      crash_in_step(dir.path(), false), ::testing::KilledBySignal(SIGSEGV),
      "critical crash: SIGSEGV \\(address 0x0\\) in plugin \"some_plugin\" handler type \"some_type\" "
      "handler \"boom\" \\(account \"acct1\", event \"e-1\", route \"accounts.acct1.routes\\[0\\]\", "
      "step \"accounts.acct1.routes\\[0\\].chain\\[1\\]\"");
  CrashRecordFile record(dir.path());
  const auto crash = record.previous_crash();
  ASSERT_TRUE(crash);
  EXPECT_EQ(crash->signal, SIGSEGV);
  EXPECT_TRUE(crash->on_dispatch_thread);
  EXPECT_EQ(crash->message_key, "event:e-1");
  EXPECT_EQ(crash->plugin, "some_plugin");
  EXPECT_EQ(crash->handler_name, "boom");
  EXPECT_EQ(crash->step, "accounts.acct1.routes[0].chain[1]");
  EXPECT_EQ(crash->body, R"({"event_id":"e-1","event_data":{"crash":true}})");
  ASSERT_FALSE(crash->frames.empty());
  const auto lines = crash->backtrace();
  EXPECT_THAT(lines.front(), HasSubstr("crash_in_step")) << lines.front();
  EXPECT_THAT(crash->summary(), HasSubstr(R"(handler "boom")"));

  record.clear();
  EXPECT_FALSE(record.previous_crash());
}

volatile bool g_forever = true;

void dereference_null() {
  *g_null = 2;
}

// Uses a kilobyte of stack per call until the thread has none left.
int recurse(int depth) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(depth);
  if (!g_forever) return 0;
  return recurse(depth + 1) + pad[0];
}

void overflow_the_stack() {
  recurse(0);
}

// A dispatch worker's thread (workers: N; with its own signal stack, as WorkerThreads gives each)
// crashing in a step, the way `crash` does, while the loop's own record is idle: the handler
// reports the message of the record that thread named with ThreadInFlight.
[[noreturn]] void crash_on_worker_thread(const std::filesystem::path& dir, void (*crash)()) {
  static CrashRecordFile record(dir);
  static InFlight loop_in_flight;  // nothing in flight on the loop's thread
  static InFlight worker_in_flight;
  install_crash_handler(record.layout(), loop_in_flight, false);
  std::thread worker([crash] {
    const ThreadSignalStack signal_stack;
    const ThreadInFlight watched(&worker_in_flight);
    static const std::string topic = "event.acct2.survey.ping";
    static const std::string body = R"({"event_id":"e-2"})";
    worker_in_flight.begin_message(topic, body);
    worker_in_flight.set_message_event_id("e-2");
    worker_in_flight.begin_event("acct2", "e-2");
    worker_in_flight.begin_step("some_plugin", "some_type", "boom2", 0, 0);
    crash();
  });
  worker.join();
  std::abort();  // not reached
}

TEST(CrashHandler, ACrashOnAWorkerThreadReportsThatWorkersMessage) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles SIGSEGV itself";
#endif
  TempDir dir;
  EXPECT_EXIT(
      crash_on_worker_thread(dir.path(), dereference_null), ::testing::KilledBySignal(SIGSEGV),
      "critical crash: SIGSEGV \\(address 0x0\\) in plugin \"some_plugin\" handler type \"some_type\" "
      "handler \"boom2\" \\(account \"acct2\", event \"e-2\"");
  CrashRecordFile record(dir.path());
  const auto crash = record.previous_crash();
  ASSERT_TRUE(crash);
  EXPECT_TRUE(crash->on_dispatch_thread);
  EXPECT_EQ(crash->message_key, "event:e-2");
  EXPECT_EQ(crash->handler_name, "boom2");
  EXPECT_EQ(crash->body, R"({"event_id":"e-2"})");
}

TEST(CrashHandler, AStackOverflowOnAWorkerThreadIsReported) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles SIGSEGV itself";
#endif
  TempDir dir;
  // Without the thread's own signal stack the handler cannot run, and the child dies silently.
  EXPECT_EXIT(crash_on_worker_thread(dir.path(), overflow_the_stack), ::testing::KilledBySignal(SIGSEGV),
              "critical crash: SIGSEGV \\(address 0x[0-9a-f]+\\) in plugin \"some_plugin\" handler type "
              "\"some_type\" handler \"boom2\" \\(account \"acct2\", event \"e-2\"");
  CrashRecordFile record(dir.path());
  const auto crash = record.previous_crash();
  ASSERT_TRUE(crash);
  EXPECT_EQ(crash->message_key, "event:e-2");
  EXPECT_EQ(crash->handler_name, "boom2");
}

TEST(CrashHandler, JsonLogLinesAreJsonObjects) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles SIGSEGV itself";
#endif
  TempDir dir;
  EXPECT_EXIT(crash_in_step(dir.path(), true), ::testing::KilledBySignal(SIGSEGV),
              "\\{\"time\":\"[0-9-]+T[0-9:.]+Z\",\"level\":\"critical\",\"msg\":\"crash: SIGSEGV .*handler "
              "\\\\\"boom\\\\\"");
}

TEST(MessageKey, EventIdWhenCarriedOtherwiseAStableHashOfTopicAndBody) {
  EXPECT_EQ(event_key("abc"), "event:abc");
  const std::string key = body_key("event.a.b.c", R"({"x":1})");
  EXPECT_EQ(key.size(), 5u + 16u);
  EXPECT_EQ(key, body_key("event.a.b.c", R"({"x":1})"));
  EXPECT_NE(key, body_key("event.a.b.c", R"({"x":2})"));
  // The separator keeps topic and body apart.
  EXPECT_NE(message_hash("ab", "c"), message_hash("a", "bc"));
  // Keys are stored in quarantined_messages: the hash must not change between versions.
  EXPECT_EQ(body_key("event.acct1.survey.ping", R"({"n":1})"), "body:8cc787e924100d71");
  char out[kMaxKeyBytes];
  EXPECT_EQ(std::string(out, write_key(out, "", "t", "b")), body_key("t", "b"));
}

TEST(QuarantineList, MatchesEventIdsAndBodiesOnlyForHeldKeys) {
  QuarantineList list;
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(list.match_event("e-1"));
  EXPECT_TRUE(list.add("event:e-1"));
  EXPECT_TRUE(list.add(body_key("t", "b")));
  EXPECT_FALSE(list.add("garbage"));
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.match_event("e-1"), "event:e-1");
  EXPECT_FALSE(list.match_event("e-2"));
  EXPECT_EQ(list.match_body("t", "b"), body_key("t", "b"));
  EXPECT_FALSE(list.match_body("t", "c"));
}

}  // namespace
}  // namespace vumi::crash
