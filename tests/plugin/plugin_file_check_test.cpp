// Plugins run as the daemon's user: a file or folder others could write to is refused before it
// is opened, unless the operator accepts the risk (plugin_path_insecure_ok).
#include "plugin/plugin_file_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "plugin/plugin_registry.hpp"
#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

namespace fs = std::filesystem;
using testing::example_plugin;
using ::testing::HasSubstr;
using testing::is_loaded;

// Why check_plugin_path refuses p, or "" when it accepts it.
std::string refusal_of(const fs::path& p) {
  auto checked = check_plugin_path(p);
  return checked ? "" : checked.error().message;
}

// A private folder holding a copy of the example plugin under a fresh name (so no earlier load in
// this process can make it look loaded).
struct PluginCopy : ::testing::Test {
  fs::path dir;
  fs::path folder;
  fs::path file;
  void SetUp() override {
    std::random_device rd;
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(rd());
    dir = fs::temp_directory_path() / ("vumi-plugin-mode-" + tag);
    folder = dir / "plugins";
    fs::create_directories(folder);
    ::chmod(dir.c_str(), 0755);
    ::chmod(folder.c_str(), 0755);
    file = folder / ("example-" + tag + ".so");
    fs::copy_file(example_plugin(), file);
    ::chmod(file.c_str(), 0755);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

TEST_F(PluginCopy, APrivateCopyLoads) {
  EXPECT_EQ(refusal_of(file), "");
  PluginRegistry registry;
  registry.load_path({folder});
  EXPECT_TRUE(registry.refusals().empty()) << registry.refusals().at(0).text();
  EXPECT_EQ(registry.plugins().size(), 1u);
}

TEST_F(PluginCopy, AFolderAnyoneCanWriteIsRefusedAndNothingInItIsOpened) {
  ASSERT_EQ(::chmod(folder.c_str(), 0777), 0);
  PluginRegistry registry;
  registry.load_path({folder});
  ASSERT_EQ(registry.refusals().size(), 1u);
  const std::string text = registry.refusals()[0].text();
  EXPECT_THAT(text,
              HasSubstr("plugin folder " + folder.string() + " is writable by group and others (mode 0777)"));
  EXPECT_THAT(text, HasSubstr("fix: chmod go-w " + folder.string()));
  EXPECT_THAT(text, HasSubstr("\"plugin_path_insecure_ok\": true"));
  EXPECT_TRUE(registry.plugins().empty());
  EXPECT_FALSE(is_loaded(file));  // its constructors never ran
  // Naming the file instead of the folder does not get around it.
  PluginRegistry by_file;
  EXPECT_FALSE(by_file.load_file(file));
  EXPECT_THAT(by_file.refusals().at(0).text(),
              HasSubstr("plugin folder " + folder.string() + " is writable"));
  EXPECT_FALSE(is_loaded(file));
}

TEST_F(PluginCopy, AFileOthersCanWriteIsRefusedNamingTheFileAndTheFix) {
  ASSERT_EQ(::chmod(file.c_str(), 0666), 0);
  PluginRegistry registry;
  registry.load_path({folder});
  ASSERT_EQ(registry.refusals().size(), 1u);
  EXPECT_EQ(registry.refusals()[0].file, file);
  EXPECT_THAT(registry.refusals()[0].reason,
              HasSubstr("plugin file " + file.string() + " is writable by group and others (mode 0666)"));
  EXPECT_THAT(registry.refusals()[0].reason, HasSubstr("fix: chmod go-w " + file.string()));
  EXPECT_FALSE(is_loaded(file));

  ASSERT_EQ(::chmod(file.c_str(), 0775), 0);
  EXPECT_THAT(refusal_of(file), HasSubstr("writable by its group (mode 0775)"));
}

TEST_F(PluginCopy, ASymlinkIntoAFolderOthersCanWriteIsRefused) {
  const fs::path loose = dir / "loose";
  fs::create_directories(loose);
  ASSERT_EQ(::chmod(loose.c_str(), 0777), 0);
  const fs::path real = loose / "real.so";
  fs::copy_file(file, real);
  const fs::path link = folder / "link.so";
  fs::create_symlink(real, link);
  EXPECT_THAT(refusal_of(link),
              HasSubstr("plugin folder " + loose.string() + " is writable by group and others"));
}

TEST_F(PluginCopy, AFileOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file away";
  ASSERT_EQ(::chown(file.c_str(), 4242, 4242), 0);
  EXPECT_THAT(refusal_of(file), HasSubstr("plugin file " + file.string() +
                                          " is owned by uid 4242, not root or the daemon's user"));
}

TEST_F(PluginCopy, TheOperatorMayAcceptTheRisk) {
  ASSERT_EQ(::chmod(folder.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(file.c_str(), 0666), 0);
  PluginRegistry registry;
  registry.allow_insecure_paths(true);
  registry.load_path({folder});
  EXPECT_TRUE(registry.refusals().empty());
  EXPECT_EQ(registry.plugins().size(), 1u);
}

TEST(PluginFileCheck, TheProjectsOwnBuildOutputPasses) {
  EXPECT_EQ(refusal_of(fs::path(VUMI_PLUGIN_DIR)), "");
  for (const auto& entry : fs::directory_iterator(VUMI_PLUGIN_DIR)) {
    if (entry.path().extension() == ".so") {
      EXPECT_EQ(refusal_of(entry.path()), "");
    }
  }
}

}  // namespace
}  // namespace vumi::plugin
