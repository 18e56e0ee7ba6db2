// ABI 1.1 compatibility: a plugin built from the frozen 1.0 header loads and runs, a C++ plugin can
// target 1.0, another major's entry symbol is named, and exceptions thrown across the raw ABI keep
// their what().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "plugin/handler_instance.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

using testing::fixture;
using ::testing::HasSubstr;

std::string only_refusal(const std::filesystem::path& file) {
  PluginRegistry registry;
  EXPECT_FALSE(registry.load_file(file));
  return registry.refusals().empty() ? std::string() : registry.refusals().front().reason;
}

struct Ran {
  vumi_step_result result;
  std::string error;
};

Ran run(const HandlerInstance& instance, testing::FakeServices& services, std::string_view config) {
  vumi_call call;
  call.plugin_name = instance.type().plugin->name();
  call.handler_type = instance.type().name;
  call.services = &services;
  const std::string text(config);
  const vumi_step_input input = testing::step_input(text);
  Ran ran{instance.handle(call, input), {}};
  ran.error = call.error;
  return ran;
}

TEST(AbiCompat, HostIsAbi1_1) {
  EXPECT_EQ(VUMI_ABI_MAJOR, 1);
  EXPECT_EQ(VUMI_ABI_MINOR, 1);
  EXPECT_STREQ(vumi_status_name(VUMI_ERR_LIMIT), "limit");
  EXPECT_STREQ(vumi_status_name(static_cast<vumi_status>(42)), "unknown");
}

TEST(AbiCompat, PluginBuiltFromTheFrozen1_0HeaderLoadsAndRuns) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("frozen_v1_0"))) << registry.refusals().at(0).text();
  const auto& entry = registry.plugins().at(0);
  EXPECT_EQ(entry.plugin->abi_minor(), 0u);
  EXPECT_EQ(entry.plugin->build_tag(), "vumi-abi-1.0 ptr8");
  auto type = registry.find("frozen_v1_0");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->abi.struct_size, VUMI_HANDLER_TYPE_V1_0_SIZE);
  EXPECT_EQ(type->abi.validate, nullptr);  // a field 1.0 did not have reads as NULL
  EXPECT_EQ(type->threading, VUMI_THREADING_SERIAL);

  auto created = HandlerInstance::create(type, "frozen", "{}");
  ASSERT_TRUE(created) << created.error().message;
  const auto instance = std::move(created).value();
  testing::FakeServices services;
  const Ran ran = run(*instance, services, R"({"to":"x"})");
  EXPECT_EQ(ran.result, VUMI_STEP_CONTINUE) << ran.error;  // FAIL would mean init ran twice
  ASSERT_EQ(services.published.size(), 1u);
  EXPECT_EQ(services.published[0].first, "outbound.frozen");
  EXPECT_EQ(services.published[0].second, R"({"to":"x"})");
  ASSERT_EQ(services.outputs.size(), 1u);
  EXPECT_EQ(services.outputs[0], R"({"from":"frozen","abi":"1.0"})");
  ASSERT_EQ(services.metrics.size(), 1u);
  EXPECT_EQ(services.metrics[0].first, "frozen_steps");
}

TEST(AbiCompat, CppPluginCanTargetAnOlderMinor) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("cpp_target_1_0"))) << registry.refusals().at(0).text();
  const auto& entry = registry.plugins().at(0);
  EXPECT_EQ(entry.plugin->abi_minor(), 0u);
  EXPECT_EQ(entry.plugin->build_tag(), "vumi-abi-1.0 ptr8");
  auto type = registry.find("targets_1_0");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->abi.struct_size, VUMI_HANDLER_TYPE_V1_0_SIZE);
  auto created = HandlerInstance::create(type, "old", "{}");
  ASSERT_TRUE(created) << created.error().message;
  const auto instance = std::move(created).value();
  testing::FakeServices services;
  EXPECT_EQ(run(*instance, services, "{}").result, VUMI_STEP_CONTINUE);
  EXPECT_EQ(services.outputs, (std::vector<std::string>{R"({"ok":true})"}));
}

TEST(AbiCompat, AnotherMajorsEntrySymbolIsNamed) {
  EXPECT_EQ(only_refusal(fixture("abi_2_entry")),
            "plugin built for ABI 2 (vumi_plugin_entry_v2); this host supports 1.x");
}

TEST(AbiCompat, MissingEntrySymbolHintsAtTheMacro) {
  const std::string reason = only_refusal(fixture("no_entry_symbol"));
  EXPECT_THAT(reason, ::testing::StartsWith("entry symbol vumi_plugin_entry_v1 not found"));
  EXPECT_THAT(reason, HasSubstr("VUMI_PLUGIN(name, version, Handler...)"));
}

TEST(AbiCompat, ExceptionsThrownAcrossTheRawAbiKeepTheirMessage) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("raw_throw"))) << registry.refusals().at(0).text();
  auto refused = HandlerInstance::create(registry.find("raw_throw"), "raw", R"({"x":1})");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "create() threw an exception across the plugin boundary: raw create refuses options");

  auto created = HandlerInstance::create(registry.find("raw_throw"), "raw", "{}");
  ASSERT_TRUE(created) << created.error().message;
  const auto instance = std::move(created).value();
  testing::FakeServices services;
  const Ran ran = run(*instance, services, "{}");
  EXPECT_EQ(ran.result, VUMI_STEP_FAIL);
  EXPECT_EQ(ran.error, "handle() threw an exception across the plugin boundary: raw handle gave up");
}

}  // namespace
}  // namespace vumi::plugin
