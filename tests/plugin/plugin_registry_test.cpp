// The loader refuses each broken fixture plugin with its exact reason, stays usable afterwards and
// accepts well-formed plugins, including ones written for an older ABI minor.
#include "plugin/plugin_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <string>

#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

using testing::example_plugin;
using testing::fixture;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Loads file into a fresh registry, expects a refusal that registered nothing, returns its reason.
std::string refusal_reason(const std::filesystem::path& file) {
  PluginRegistry registry;
  EXPECT_FALSE(registry.load_file(file));
  EXPECT_TRUE(registry.plugins().empty());
  EXPECT_TRUE(registry.type_names().empty());
  if (registry.refusals().size() != 1) {
    ADD_FAILURE() << "expected one refusal for " << file << ", got " << registry.refusals().size();
    return {};
  }
  EXPECT_EQ(registry.refusals()[0].file, file);
  EXPECT_EQ(registry.refusals()[0].text(), file.string() + ": " + registry.refusals()[0].reason);
  return registry.refusals()[0].reason;
}

std::string size_reason(std::string_view prefix, std::size_t size, std::size_t required) {
  return std::string(prefix) + "descriptor is " + std::to_string(size) +
         " bytes, ABI 1.1 requires at least " + std::to_string(required);
}

TEST(PluginRefusal, NotASharedObject) {
  const std::string reason = refusal_reason(fixture("not_a_library"));
  EXPECT_THAT(reason, StartsWith("not a loadable shared object: "));
  EXPECT_THAT(reason, HasSubstr("not_a_library.so"));  // dlerror's text is passed on
  EXPECT_THAT(reason, HasSubstr("invalid ELF header"));
}

TEST(PluginRefusal, MissingFile) {
  EXPECT_EQ(refusal_reason(fixture("there_is_no_such_plugin")), "does not exist");
}

TEST(PluginRefusal, EntrySymbolMissing) {
  EXPECT_THAT(refusal_reason(fixture("no_entry_symbol")),
              StartsWith("entry symbol vumi_plugin_entry_v1 not found; "));
}

TEST(PluginRefusal, EntryReturnsNull) {
  EXPECT_EQ(refusal_reason(fixture("null_entry")), "entry function vumi_plugin_entry_v1 returned NULL");
}

TEST(PluginRefusal, OtherAbiMajor) {
  EXPECT_EQ(refusal_reason(fixture("abi_major_2")), "plugin ABI 2.0, host supports 1.x");
}

TEST(PluginRefusal, NewerAbiMinor) {
  EXPECT_EQ(refusal_reason(fixture("abi_minor_newer")), "plugin ABI 1.7, host supports up to 1.1");
}

TEST(PluginRefusal, DescriptorTooSmall) {
  EXPECT_EQ(refusal_reason(fixture("descriptor_too_small")),
            size_reason("", offsetof(vumi_plugin_info, handler_count), VUMI_PLUGIN_INFO_V1_1_SIZE));
}

TEST(PluginRefusal, MissingIdentity) {
  EXPECT_EQ(refusal_reason(fixture("missing_name")), "plugin name is missing");
  EXPECT_EQ(refusal_reason(fixture("missing_version")), "plugin version is missing");
  EXPECT_EQ(refusal_reason(fixture("missing_build_tag")), "build_tag is missing");
}

TEST(PluginRefusal, PluginNameNotAnIdentifier) {
  EXPECT_EQ(refusal_reason(fixture("bad_plugin_name")),
            "plugin name \"bad.plugin\" contains '.' (allowed: A-Z a-z 0-9 _ : -)");
}

TEST(PluginRefusal, NoHandlerTypes) {
  EXPECT_EQ(refusal_reason(fixture("no_handlers")), "declares no handler types");
}

TEST(PluginRefusal, HandlerDescriptorTooSmall) {
  EXPECT_EQ(refusal_reason(fixture("handler_too_small")),
            size_reason("handler #0: ", offsetof(vumi_handler_type, handle), VUMI_HANDLER_TYPE_V1_1_SIZE));
}

TEST(PluginRefusal, HandlerNameNotAnIdentifier) {
  EXPECT_EQ(refusal_reason(fixture("bad_handler_name")),
            "handler name \"log event\" contains ' ' (allowed: A-Z a-z 0-9 _ : -)");
}

TEST(PluginRefusal, RequiredCallbackNull) {
  EXPECT_EQ(refusal_reason(fixture("null_handle_callback")),
            "handler \"null_handle_callback\": handle() is NULL");
  EXPECT_EQ(refusal_reason(fixture("create_without_destroy")),
            "handler \"create_without_destroy\": create() is given without destroy()");
}

TEST(PluginRefusal, UnknownThreadingModel) {
  EXPECT_EQ(refusal_reason(fixture("bad_threading")), "handler \"bad_threading\": unknown threading model 9");
}

TEST(PluginRefusal, SchemaNotJson) {
  EXPECT_EQ(refusal_reason(fixture("bad_schema_json")),
            "handler \"bad_schema_json\": options_schema is not valid JSON: line 1 col 19: syntax error");
}

TEST(PluginRefusal, SchemaOutsideTheSubset) {
  const std::string reason = refusal_reason(fixture("bad_schema"));
  EXPECT_THAT(reason, StartsWith("handler \"bad_schema\": step_schema: properties.to.type: "));
  EXPECT_THAT(reason, HasSubstr("strin"));
}

TEST(PluginRefusal, HandlerTypeDeclaredTwiceInOnePlugin) {
  EXPECT_EQ(refusal_reason(fixture("duplicate_within")), "handler type \"twice\" is declared twice");
}

TEST(PluginRefusal, InitFailurePassesOnThePluginsMessage) {
  EXPECT_EQ(refusal_reason(fixture("init_fails")), "init failed: no licence key configured");
}

TEST(PluginRefusal, HandlerTypeAlreadyRegisteredNamesBothFiles) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(example_plugin())) << registry.refusals().at(0).text();
  EXPECT_FALSE(registry.load_file(fixture("duplicate_type")));
  ASSERT_EQ(registry.refusals().size(), 1u);
  EXPECT_EQ(registry.refusals()[0].text(), fixture("duplicate_type").string() +
                                               ": handler type \"log_event\" is already registered by plugin "
                                               "\"example\" (" +
                                               example_plugin().string() + ")");
  // The first registration stands and nothing of the refused plugin remains.
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.find("log_event")->plugin->file(), example_plugin());
}

TEST(PluginRefusal, SamePluginLoadedTwice) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(example_plugin()));
  EXPECT_FALSE(registry.load_file(example_plugin()));
  ASSERT_EQ(registry.refusals().size(), 1u);
  EXPECT_EQ(registry.refusals()[0].reason,
            "plugin \"example\" is already loaded from " + example_plugin().string());
  EXPECT_EQ(registry.plugins().size(), 1u);
}

TEST(PluginRegistry, StaysUsableAfterRefusals) {
  PluginRegistry registry;
  for (const char* broken :
       {"not_a_library", "abi_major_2", "null_handle_callback", "init_fails", "duplicate_within"})
    EXPECT_FALSE(registry.load_file(fixture(broken))) << broken;
  EXPECT_EQ(registry.refusals().size(), 5u);
  EXPECT_TRUE(registry.plugins().empty());

  ASSERT_TRUE(registry.load_file(example_plugin()));
  ASSERT_TRUE(registry.load_file(fixture("older_minor")));
  EXPECT_EQ(registry.plugins().size(), 2u);
  EXPECT_NE(registry.find("set_output"), nullptr);
  EXPECT_NE(registry.find("older_minor_step"), nullptr);
  EXPECT_EQ(registry.find("twice"), nullptr);
  EXPECT_EQ(registry.find("null_handle_callback"), nullptr);
}

TEST(PluginRegistry, AcceptsAnOlderMinorDescriptorOfExactlyTheV1_0Size) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(fixture("older_minor"))) << registry.refusals().at(0).text();
  const auto& entry = registry.plugins().at(0);
  EXPECT_EQ(entry.plugin->name(), "older_minor");
  EXPECT_EQ(entry.plugin->version(), "0.0.1");
  EXPECT_EQ(entry.plugin->build_tag(), VUMI_BUILD_TAG);
  EXPECT_EQ(entry.plugin->abi_major(), 1u);
  EXPECT_EQ(entry.plugin->abi_minor(), 0u);
  ASSERT_EQ(entry.types.size(), 1u);
  const HandlerType& type = *entry.types[0];
  EXPECT_EQ(type.name, "older_minor_step");
  EXPECT_EQ(type.description, "fixture handler");
  EXPECT_EQ(type.threading, VUMI_THREADING_SERIAL);
  EXPECT_EQ(type.abi.struct_size, VUMI_HANDLER_TYPE_V1_0_SIZE);
  EXPECT_EQ(type.abi.create, nullptr);
  EXPECT_NE(type.abi.handle, nullptr);
  // No declared schema means "accepts {} only".
  EXPECT_EQ(type.options_schema, boost::json::parse(R"({"type":"object","additionalProperties":false})"));
  EXPECT_EQ(type.step_schema, type.options_schema);
  EXPECT_EQ(type.plugin, entry.plugin);
}

TEST(PluginRegistry, ExamplePluginDeclaresItsHandlerTypes) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.load_file(example_plugin()));
  EXPECT_EQ(registry.type_names(), (std::vector<std::string>{"emit_event", "fail_step", "log_event", "noop",
                                                             "set_output", "stop_chain", "throw_step"}));
  const auto& plugin = *registry.plugins().at(0).plugin;
  EXPECT_EQ(plugin.name(), "example");
  EXPECT_EQ(plugin.version(), "1.0.0");
  EXPECT_EQ(plugin.abi_major(), static_cast<unsigned>(VUMI_ABI_MAJOR));
  EXPECT_EQ(plugin.abi_minor(), static_cast<unsigned>(VUMI_ABI_MINOR));
  for (const std::string& name : registry.type_names()) {
    const auto type = registry.find(name);
    EXPECT_FALSE(type->description.empty()) << name;
    EXPECT_FALSE(type->output_description.empty()) << name;
    EXPECT_EQ(type->threading, VUMI_THREADING_REENTRANT) << name;
    EXPECT_EQ(type->options_schema.at("additionalProperties"), false) << name;
  }
  EXPECT_EQ(registry.find("set_output")->step_schema.at("required"), boost::json::parse(R"(["output"])"));
  EXPECT_EQ(registry.find("emit_event")->step_schema.at("required"), boost::json::parse(R"(["event_type"])"));
}

TEST(PluginRegistry, LoadPathTakesFilesAndFoldersInNameOrderAndRefusesMissingPaths) {
  PluginRegistry registry;
  const std::filesystem::path missing = std::filesystem::path(VUMI_FIXTURE_DIR) / "no_such_folder";
  registry.load_path({example_plugin(), std::filesystem::path(VUMI_FIXTURE_DIR), missing});

  std::vector<std::string> loaded;
  for (const auto& entry : registry.plugins()) loaded.emplace_back(entry.plugin->name());
  EXPECT_EQ(loaded[0], "example");
  EXPECT_THAT(loaded, ::testing::IsSupersetOf({"invalid_result", "lifecycle", "older_minor"}));
  EXPECT_THAT(loaded, ::testing::Not(::testing::Contains("duplicate_type")));  // collides with example

  const auto& refusals = registry.refusals();
  ASSERT_GE(refusals.size(), 2u);
  EXPECT_EQ(refusals.back().file, missing);
  EXPECT_EQ(refusals.back().reason, "does not exist");
  std::vector<std::filesystem::path> refused_files;
  for (std::size_t i = 0; i + 1 < refusals.size(); ++i) refused_files.push_back(refusals[i].file);
  EXPECT_TRUE(std::is_sorted(refused_files.begin(), refused_files.end()));
  EXPECT_THAT(refused_files, ::testing::Contains(fixture("duplicate_type")));
  EXPECT_THAT(refused_files, ::testing::Contains(fixture("not_a_library")));
}

}  // namespace
}  // namespace vumi::plugin
