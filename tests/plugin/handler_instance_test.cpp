// Handler instances: creation through the plugin, result validation, and the library lifetime
// (loaded while any instance lives, shut down only after the last one is destroyed).
#include "plugin/handler_instance.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

using testing::fixture;
using testing::is_loaded;

TEST(HandlerInstance, LibraryOutlivesTheRegistryWhileAnInstanceLives) {
  unsetenv("VUMI_FIXTURE_SHUTDOWN");
  const auto file = fixture("lifecycle");
  std::unique_ptr<HandlerInstance> instance;
  {
    PluginRegistry registry;
    ASSERT_TRUE(registry.load_file(file)) << registry.refusals().at(0).text();
    auto created = HandlerInstance::create(registry.find("lifecycle"), "life", "{}");
    ASSERT_TRUE(created) << created.error().message;
    instance = std::move(created).value();
  }
  EXPECT_TRUE(is_loaded(file));
  EXPECT_EQ(std::getenv("VUMI_FIXTURE_SHUTDOWN"), nullptr) << "shutdown ran while an instance lives";

  testing::FakeServices services;
  vumi_call call;
  call.plugin_name = "lifecycle";
  call.handler_type = "lifecycle";
  call.services = &services;
  const vumi_step_input input = testing::step_input("{}");
  EXPECT_EQ(instance->handle(call, input), VUMI_STEP_STOP) << call.error;
  EXPECT_EQ(instance->name(), "life");
  EXPECT_EQ(instance->type().name, "lifecycle");

  instance.reset();
  ASSERT_NE(std::getenv("VUMI_FIXTURE_SHUTDOWN"), nullptr) << "shutdown was not called";
  EXPECT_STREQ(std::getenv("VUMI_FIXTURE_SHUTDOWN"), "clean");  // every instance destroyed first
  EXPECT_FALSE(is_loaded(file));
}

TEST(HandlerInstance, RegistryAloneUnloadsTheLibraryWhenDestroyed) {
  const auto file = fixture("older_minor");
  {
    PluginRegistry registry;
    ASSERT_TRUE(registry.load_file(file));
    EXPECT_TRUE(is_loaded(file));
  }
  EXPECT_FALSE(is_loaded(file));
}

TEST(HandlerInstance, RefusedPluginIsUnloaded) {
  const auto file = fixture("init_fails");
  PluginRegistry registry;
  EXPECT_FALSE(registry.load_file(file));
  EXPECT_FALSE(is_loaded(file));
}

TEST(HandlerInstance, CreateFailurePassesOnThePluginsMessage) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("lifecycle")));
  auto refused = HandlerInstance::create(registry.find("lifecycle"), "life", R"({"fail":true})");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::refused);
  EXPECT_EQ(refused.error().message, "options refused: fail is set");
}

TEST(HandlerInstance, OutOfRangeResultIsAFailure) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("invalid_result")));
  auto created = HandlerInstance::create(registry.find("invalid_result"), "bad", "{}");
  ASSERT_TRUE(created) << created.error().message;
  const auto instance = std::move(created).value();
  testing::FakeServices services;
  vumi_call call;
  call.services = &services;
  const vumi_step_input input = testing::step_input("{}");
  EXPECT_EQ(instance->handle(call, input), VUMI_STEP_FAIL);
  EXPECT_EQ(call.error, "handler returned invalid result 7");
}

TEST(HandlerInstance, HandlerWithoutCreateGetsNoInstance) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("older_minor")));
  auto created = HandlerInstance::create(registry.find("older_minor_step"), "step", "{}");
  ASSERT_TRUE(created) << created.error().message;
  const auto instance = std::move(created).value();
  testing::FakeServices services;
  vumi_call call;
  call.services = &services;
  const vumi_step_input input = testing::step_input("{}");
  EXPECT_EQ(instance->handle(call, input), VUMI_STEP_CONTINUE);
  EXPECT_TRUE(call.error.empty());
}

}  // namespace
}  // namespace vumi::plugin
