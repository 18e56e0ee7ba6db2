// validate_against_plugins: handler types exist, options and step configs match the declared
// schemas (templates allowed in step configs), and tag_router routes name owned tags and declared
// conversations. Uses the example plugin (sdk/examples/example) and the four in-tree plugins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config_test_util.hpp"
#include "plugin/plugin_registry.hpp"

namespace {

using namespace vumi::config;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class PluginValidation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new vumi::plugin::PluginRegistry();
    registry_->load_path({VUMI_PLUGIN_DIR});
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  // Structural errors must be absent; returns the plugin-dependent ones.
  std::vector<std::string> validate(const std::string& text) {
    LoadResult r = parse_config(text, "test.json");
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(vumi::config::testing::error_texts(r));
    if (!r.config) return {"no config"};
    std::vector<ConfigError> errors;
    validate_against_plugins(*r.config, *registry_, errors);
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.text());
    return out;
  }

  static vumi::plugin::PluginRegistry* registry_;
};

vumi::plugin::PluginRegistry* PluginValidation::registry_ = nullptr;

TEST_F(PluginValidation, TheTestPluginsLoaded) {
  ASSERT_THAT(registry_->refusals(), IsEmpty());
  ASSERT_TRUE(registry_->find("set_output")) << "example.so missing from " VUMI_PLUGIN_DIR;
  ASSERT_TRUE(registry_->find("send_sms")) << "send_sms.so missing from " VUMI_PLUGIN_DIR;
}

TEST_F(PluginValidation, UnknownHandlerTypeListsKnownTypes) {
  auto errors = validate(R"({"handlers": {"sms": {"type": "send_smss"}}})");
  ASSERT_THAT(errors,
              ElementsAre(HasSubstr("handlers.sms.type: unknown handler type \"send_smss\" (known: ")));
  EXPECT_THAT(errors[0], HasSubstr("log_event"));
  EXPECT_THAT(errors[0], HasSubstr("did you mean \"send_sms\"?"));
}

TEST_F(PluginValidation, OptionsAgainstTheOptionsSchema) {
  EXPECT_THAT(validate(R"({"handlers": {"sms": {"type": "send_sms", "options": {"transport_name": "t"}}}})"),
              IsEmpty());
  EXPECT_THAT(validate(R"({"handlers": {"sms": {"type": "send_sms", "options": {"transport_name": 5}}}})"),
              ElementsAre("handlers.sms.options.transport_name: expected string, got integer"));
  EXPECT_THAT(validate(R"({"handlers": {"sms": {"type": "send_sms", "options": {"tranport_name": "t"}}}})"),
              ElementsAre("handlers.sms.options: missing required key \"transport_name\"",
                          "handlers.sms.options: unknown key \"tranport_name\" (allowed: transport_name, "
                          "transport_type, from_addr); did you mean \"transport_name\"?"));
  EXPECT_THAT(validate(R"({"handlers": {"log": {"type": "log_event", "options": {"level": "info"}}}})"),
              ElementsAre("handlers.log.options: unknown key \"level\" (no keys allowed)"));
}

TEST_F(PluginValidation, StepConfigsAgainstTheStepSchemaWithTemplates) {
  const std::string head = R"({"handlers": {"label": {"type": "set_output"}, "log": {"type": "log_event"}},
      "accounts": {"a": {"routes": [{"chain": [)";
  EXPECT_THAT(
      validate(head + R"({"handler": "label", "as": "x", "config": {"output": "{{/event/event_data}}"}},
      {"handler": "log", "config": {"message": "got {{/steps/x/y}}"}}]}]}}})"),
      IsEmpty());
  EXPECT_THAT(validate(head + R"({"handler": "label", "config": {}},
      {"handler": "log", "config": {"message": ["not", "a", "string"], "level": 1}}]}]}}})"),
              ElementsAre("accounts.a.routes[0].chain[0].config: missing required key \"output\"",
                          "accounts.a.routes[0].chain[1].config.message: expected string, got array",
                          "accounts.a.routes[0].chain[1].config: unknown key \"level\" (allowed: message)"));
  EXPECT_THAT(
      validate(head + R"({"handler": "label", "config": {"output": "prefix {{/event/event_data}}"}}]}]}}})"),
      ElementsAre("accounts.a.routes[0].chain[0].config.output: expected object, got string"));
}

// A route or step that is no object is reported by the reader; what the plugins find in the ones
// after it names their own index, not one shifted by the bad entry.
TEST_F(PluginValidation, StepsAfterAnUnreadableRouteOrStepKeepTheirPaths) {
  LoadResult r = parse_config(R"({"handlers": {"label": {"type": "set_output"}},
      "accounts": {"a": {"routes": [5, {"chain": [7, {"handler": "label", "config": {}}]}]}}})",
                              "test.json");
  ASSERT_TRUE(r.config);
  EXPECT_THAT(vumi::config::testing::error_texts(r),
              ElementsAre("accounts.a.routes[0]: expected object, got integer",
                          "accounts.a.routes[1].chain[0]: expected object, got integer"));
  std::vector<ConfigError> errors;
  validate_against_plugins(*r.config, *registry_, errors);
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_EQ(errors[0].text(), "accounts.a.routes[1].chain[1].config: missing required key \"output\"");
}

TEST_F(PluginValidation, UnknownTypeIsReportedOnceNotPerStep) {
  auto errors = validate(R"({"handlers": {"h": {"type": "nope"}}, "accounts": {"a": {"routes": [
      {"chain": [{"handler": "h", "config": {"x": 1}}, {"handler": "h"}]}]}}})");
  EXPECT_THAT(errors, ElementsAre(HasSubstr("handlers.h.type: unknown handler type \"nope\"")));
}

TEST_F(PluginValidation, TagRouterRoutesNameOwnedTagsAndDeclaredConversations) {
  const char* config = R"({"handlers": {"router": {"type": "tag_router"}}, "accounts": {
      "acct1": {"conversations": {"poll1": "vxpolls"}, "tags": ["longcode:12345"],
                "routes": [{"on": {"event_type": "inbound_message"}, "chain": [{"handler": "router", "config":
                  {"routes": {"longcode:12345": "poll1", "longcode:999": "poll1", "longcode:12345x": "poll2"}}}]}]},
      "acct2": {"tags": ["longcode:999"]}}})";
  EXPECT_THAT(
      validate(config),
      ElementsAre(
          "accounts.acct1.routes[0].chain[0].config.routes.longcode:999: tag \"longcode:999\" is not "
          "one of account \"acct1\"'s tags (longcode:12345)",
          "accounts.acct1.routes[0].chain[0].config.routes.longcode:12345x: tag \"longcode:12345x\" "
          "is not one of account \"acct1\"'s tags (longcode:12345)",
          "accounts.acct1.routes[0].chain[0].config.routes.longcode:12345x: conversation \"poll2\" is "
          "not declared in accounts.acct1.conversations (declared: poll1)"));
}

TEST_F(PluginValidation, TheCoreNamesNoPluginTagChecksComeFromThePluginsValidate) {
  LoadResult r = parse_config(R"({"handlers": {"router": {"type": "tag_router"}}, "accounts": {"a": {
      "routes": [{"chain": [{"handler": "router", "config": {"routes": {"pool:t": "c"}}}]}]}}})",
                              "x");
  ASSERT_TRUE(r.ok());
  vumi::plugin::PluginRegistry empty;
  std::vector<ConfigError> errors;
  validate_against_plugins(*r.config, empty, errors);
  ASSERT_EQ(errors.size(), 1u);  // without the plugin there is no one to judge its step config
  EXPECT_EQ(errors[0].text(), "handlers.router.type: unknown handler type \"tag_router\" (known: none)");
}

TEST_F(PluginValidation, ValidateRunsOnlyOnStepsTheSchemaAccepts) {
  // routes must be an object: the schema reports it and validate() never sees the step.
  const char* config = R"({"handlers": {"router": {"type": "tag_router"}}, "accounts": {"a": {
      "routes": [{"chain": [{"handler": "router", "config": {"routes": ["pool:t"]}}]}]}}})";
  EXPECT_THAT(validate(config),
              ElementsAre(HasSubstr("accounts.a.routes[0].chain[0].config.routes: expected object")));
}

TEST_F(PluginValidation, ValidateSkipsTemplatedTargets) {
  const char* config = R"({"handlers": {"router": {"type": "tag_router"}}, "accounts": {"a": {
      "tags": ["pool:t"], "routes": [{"chain": [{"handler": "router",
      "config": {"routes": {"pool:t": "{{/event/event_data/to}}"}}}]}]}}})";
  EXPECT_THAT(validate(config), ::testing::IsEmpty());
}

TEST_F(PluginValidation, TheDefaultConfigValidates) {
  LoadResult r = load_config_file(VUMI_SOURCE_DIR "/config/dispatcher.json");
  ASSERT_TRUE(r.ok());
  std::vector<ConfigError> errors;
  validate_against_plugins(*r.config, *registry_, errors);
  EXPECT_THAT(errors, IsEmpty()) << errors.front().text();
}

}  // namespace

// Equal step configs share one compiled program, and a config a type's schema accepted is not
// checked again; what depends on the account or the handler type is still judged for each.
TEST_F(PluginValidation, AStepConfigRepeatedByManyAccountsIsJudgedForEach) {
  const char* invalid_twice = R"({"handlers": {"label": {"type": "set_output"}}, "accounts": {
      "a": {"routes": [{"chain": [{"handler": "label", "config": {"output": 5}}]}]},
      "b": {"routes": [{"chain": [{"handler": "label", "config": {"output": 5}}]}]}}})";
  EXPECT_THAT(validate(invalid_twice),
              ElementsAre("accounts.a.routes[0].chain[0].config.output: expected object, got integer",
                          "accounts.b.routes[0].chain[0].config.output: expected object, got integer"));

  // b's own "label" shadows the global one with another type, whose schema refuses the config.
  const char* other_type = R"({"handlers": {"label": {"type": "set_output"}}, "accounts": {
      "a": {"routes": [{"chain": [{"handler": "label", "config": {"output": {"k": 1}}}]}]},
      "b": {"handlers": {"label": {"type": "log_event"}},
            "routes": [{"chain": [{"handler": "label", "config": {"output": {"k": 1}}}]}]}}})";
  EXPECT_THAT(validate(other_type),
              ElementsAre("accounts.b.routes[0].chain[0].config: unknown key \"output\" (allowed: message)"));

  // The same tag_router config is right for the account that owns the tag and declares the
  // conversation, and wrong for the one that does not: the plugin's validate sees each account.
  const char* per_account = R"({"handlers": {"router": {"type": "tag_router"}}, "accounts": {
      "a": {"conversations": {"c": "vxpolls"}, "tags": ["pool:t"],
            "routes": [{"chain": [{"handler": "router", "config": {"routes": {"pool:t": "c"}}}]}]},
      "b": {"routes": [{"chain": [{"handler": "router", "config": {"routes": {"pool:t": "c"}}}]}]}}})";
  EXPECT_THAT(
      validate(per_account),
      ElementsAre(HasSubstr("accounts.b.routes[0].chain[0].config.routes.pool:t: tag \"pool:t\" is not"),
                  HasSubstr("accounts.b.routes[0].chain[0].config.routes.pool:t: conversation \"c\" is "
                            "not declared")));
}

TEST_F(PluginValidation, AGlobalHandlersBadOptionsAreReportedOnceAndItsStepsSkipThePluginsValidate) {
  const char* config = R"({"handlers": {"router": {"type": "tag_router", "options": {"x": 1}}}, "accounts": {
      "a": {"routes": [{"chain": [{"handler": "router", "config": {"routes": {"pool:t": "c"}}}]}]},
      "b": {"routes": [{"chain": [{"handler": "router", "config": {"routes": {"pool:u": "d"}}}]}]}}})";
  EXPECT_THAT(validate(config), ElementsAre(HasSubstr("handlers.router.options: unknown key \"x\"")));
}
