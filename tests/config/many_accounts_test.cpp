// 100,000 accounts (bench/many_accounts.hpp, shaped like the scale config) load: in this
// process through parse_config and Runtime::build, and through `vumi-dispatcher check` within a
// generous memory bound. Not a timing: bench/many_accounts_bench measures time and memory.
#include "../bench/many_accounts.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dispatch/runtime.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
constexpr std::size_t kAccounts = 100'000;

class ManyAccounts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vumi-many-accounts-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ostringstream text;
    bench_support::write_many_accounts_config(text, kAccounts, VUMI_PLUGIN_DIR, (dir_ / "state").string());
    text_ = std::move(text).str();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string text_;
};

TEST_F(ManyAccounts, EveryAccountIsLoadedAndIndexed) {
  auto loaded = vumi::config::parse_config(text_, "many.json");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].text());
  ASSERT_EQ(loaded.config->accounts.size(), kAccounts);
  auto built = vumi::dispatch::Runtime::build(std::move(*loaded.config));
  ASSERT_TRUE(built) << built.error().at(0).text();
  const auto runtime = std::move(built).value();
  EXPECT_EQ(runtime->routes().account_count(), kAccounts);
  EXPECT_EQ(runtime->routes().route_count(), 2 * kAccounts);
  // The specs moved into the index; the Config keeps no storage for them (21 MB here).
  EXPECT_EQ(runtime->config().accounts.capacity(), 0u);
  // The first and the last account are there, with their own tag and conversation.
  for (const std::string n : {"0", "99999"}) {
    const auto* owner = runtime->routes().tag_owner("longcode:" + n);
    ASSERT_NE(owner, nullptr) << n;
    EXPECT_EQ(owner->key, "acct" + n);
    EXPECT_EQ(runtime->routes().conversation_type("acct" + n, "poll" + n), "vxpolls");
  }
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST_F(ManyAccounts, CheckAcceptsThemWithinAGenerousMemoryBound) {
  const fs::path config = dir_ / "many.json";
  std::ofstream(config) << text_;
  const fs::path out = dir_ / "check.out";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args{VUMI_DISPATCHER_EXE, "check", "-c", config.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  rusage usage{};
  ASSERT_EQ(wait4(pid, &status, 0, &usage), pid);
  std::ifstream in(out);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_NE(output.find("accounts: 100000, routes: 200000, tags: 100000"), std::string::npos) << output;
  // Generous: the peak was 1.6 GB before step configs were shared, 377 MB while the whole
  // document was built, 188 MB since the accounts are read one at a time from the file, which is
  // not held whole (bench/README.md). AddressSanitizer's shadow memory and redzones inflate every
  // allocation, so the asan build checks only that it loads.
  if (kSanitized) GTEST_SKIP() << "loaded; the memory bound is checked in builds without AddressSanitizer";
  EXPECT_LT(usage.ru_maxrss, 300L * 1024L) << "peak resident set of check, KiB";
}

}  // namespace
