// Setup shared by the plugin tests: a fake host with the plugin linked into this test binary loaded.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vumi/testing.hpp>

#include "readme_schema_check.hpp"

namespace vumi::plugin_tests {

// Fixture for one handler type of the plugin under test; each test gets a fresh host.
class PluginTest : public ::testing::Test {
 protected:
  // Tests make handlers of `type_name`, created with `default_options` unless they give others.
  explicit PluginTest(std::string type_name, std::string default_options = "{}")
      : type_name_(std::move(type_name)), default_options_(std::move(default_options)) {}

  // Loads the plugin through its entry function (handshake, descriptor checks, init()).
  void SetUp() override { host.load(&VUMI_PLUGIN_ENTRY_SYMBOL); }

  // A handler of the type under test with the default options; throws if the plugin refuses them.
  vumi::testing::FakeHandler make() { return host.instantiate(type_name_, default_options_); }
  // A handler of the type under test with `options`; throws if the plugin refuses them.
  vumi::testing::FakeHandler make(std::string_view options) { return host.instantiate(type_name_, options); }

  // plugins/<type_name>/README.md's tables match the schemas the handler type declares.
  void expect_readme_matches_declared_schema() const {
    expect_readme_matches_schema(host, type_name_,
                                 std::string(VUMI_SOURCE_DIR) + "/plugins/" + type_name_ + "/README.md");
  }

  vumi::testing::FakeHost host;

 private:
  std::string type_name_;
  std::string default_options_;
};

}  // namespace vumi::plugin_tests
