// Reload that reloads: registries (one per config generation) share plugin images. An unchanged
// file is the same image (init and shutdown once); a rebuilt file is a new image beside the old
// one, which unloads when its last instance is gone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>

#include "plugin/handler_instance.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A plugin folder of the test's own, holding versioned.so: the "installed" plugin the operator rebuilds.
class PluginReload : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("VUMI_VERSIONED_SHUTDOWN");
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("vumi-reload-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Installs a build as the operator would: a new file renamed over the old one.
  void install(const char* build) {
    const fs::path staged = dir_ / "versioned.so.new";
    fs::copy_file(testing::fixture(build), staged, fs::copy_options::overwrite_existing);
    fs::rename(staged, plugin());
  }
  fs::path plugin() const { return dir_ / "versioned.so"; }

  static boost::json::value run(const HandlerInstance& instance) {
    testing::FakeServices services;
    vumi_call call;
    call.plugin_name = "versioned";
    call.handler_type = "versioned_step";
    call.services = &services;
    const vumi_step_input input = testing::step_input("{}");
    EXPECT_EQ(instance.handle(call, input), VUMI_STEP_CONTINUE) << call.error;
    return services.outputs.empty() ? boost::json::value() : boost::json::parse(services.outputs.back());
  }
  static std::unique_ptr<HandlerInstance> instantiate(const PluginRegistry& registry) {
    auto instance = HandlerInstance::create(registry.find("versioned_step"), "v", "{}");
    EXPECT_TRUE(instance) << instance.error().message;
    if (!instance) return nullptr;
    return std::move(instance).value();
  }
  static std::string shutdowns() {
    const char* text = std::getenv("VUMI_VERSIONED_SHUTDOWN");
    return text ? text : "";
  }

  fs::path dir_;
};

TEST_F(PluginReload, AnUnchangedFileIsTheSameImageInitialisedOnce) {
  install("versioned_0_1");
  auto first = std::make_unique<PluginRegistry>();
  ASSERT_TRUE(first->load_file(plugin())) << first->refusals().at(0).text();
  auto old_instance = instantiate(*first);

  PluginRegistry second;  // the reload: a new registry over the same, unchanged file
  ASSERT_TRUE(second.load_file(plugin())) << second.refusals().at(0).text();
  EXPECT_EQ(second.plugins().at(0).plugin, first->plugins().at(0).plugin);  // one image
  auto new_instance = instantiate(second);
  EXPECT_EQ(run(*new_instance).at("init_calls"), 1);  // not initialised again

  first.reset();
  old_instance.reset();
  EXPECT_EQ(shutdowns(), "");  // the new registry still uses the image
}

TEST_F(PluginReload, ARebuiltFileIsANewImageAndTheOldOneUnloadsWithItsLastInstance) {
  install("versioned_0_1");
  auto old_registry = std::make_unique<PluginRegistry>();
  ASSERT_TRUE(old_registry->load_file(plugin())) << old_registry->refusals().at(0).text();
  auto old_instance = instantiate(*old_registry);
  EXPECT_EQ(run(*old_instance).at("version"), "0.1.0");

  install("versioned_0_2");  // rebuilt under a new version while 0.1.0 is running
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("captured",
                                                 std::make_shared<spdlog::sinks::ostream_sink_st>(captured));
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  PluginRegistry new_registry;
  const bool loaded = new_registry.load_file(plugin());
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(loaded) << new_registry.refusals().at(0).text();
  EXPECT_THAT(captured.str(), HasSubstr("plugin versioned 0.1.0 -> 0.2.0"));
  EXPECT_EQ(new_registry.plugins().at(0).plugin->version(), "0.2.0");
  EXPECT_NE(new_registry.plugins().at(0).plugin, old_registry->plugins().at(0).plugin);

  auto new_instance = instantiate(new_registry);
  const auto output = run(*new_instance);
  EXPECT_EQ(output.at("version"), "0.2.0");  // new code, not dlopen's cached 0.1.0
  EXPECT_EQ(output.at("init_calls"), 1);
  EXPECT_EQ(run(*old_instance).at("version"), "0.1.0");  // the old instance keeps its code

  old_registry.reset();
  EXPECT_EQ(shutdowns(), "");  // an old instance still lives
  old_instance.reset();
  EXPECT_EQ(shutdowns(), "0.1.0;");  // the old image's shutdown, once, after its last instance
  EXPECT_EQ(run(*new_instance).at("version"), "0.2.0");
  new_instance.reset();
}

}  // namespace
}  // namespace vumi::plugin
