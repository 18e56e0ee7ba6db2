// tag_router through the SDK's fake host.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <vumi/testing.hpp>

#include "plugin_test_support.hpp"

namespace {

namespace json = boost::json;
using vumi::testing::make_event;
using vumi::testing::make_inbound_event;
using vumi::testing::make_user_message;
using vumi::testing::UserMessageSpec;

constexpr const char* kConfig =
    R"({"routes":{"longcode:12345":"poll1"},"conversation_types":{"poll1":"vxpolls","other":"survey"}})";

std::string inbound(std::string tag = "12345") {
  UserMessageSpec spec;
  spec.tag = std::move(tag);
  return make_inbound_event("acct1", make_user_message(spec));
}

class TagRouterTest : public vumi::plugin_tests::PluginTest {
 protected:
  // The daemon publishes only to conversations the account declares; so does the fake host.
  TagRouterTest() : PluginTest("tag_router") { host.declare_account("acct1", {{"poll1", "vxpolls"}}); }
};

TEST_F(TagRouterTest, ReadmeTablesMatchTheDeclaredSchema) {
  expect_readme_matches_declared_schema();
}

TEST_F(TagRouterTest, RoutesAMappedTagToItsConversationAndStops) {
  auto run = make().run(inbound(), kConfig);
  ASSERT_TRUE(run.stopped()) << run.error;
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "conversation.vxpolls.poll1");

  json::object expected = json::parse(make_user_message()).as_object();
  const json::object& body = host.published()[0].body;
  expected["timestamp"] = body.at("timestamp");
  expected["helper_metadata"].as_object()["go"] = json::object{
      {"user_account", "acct1"}, {"conversation_key", "poll1"}, {"conversation_type", "vxpolls"}};
  EXPECT_EQ(body, expected);  // the message unchanged but for helper_metadata.go (tag kept)

  ASSERT_TRUE(run.output);
  EXPECT_EQ(*run.output,
            (json::object{
                {"tag", "longcode:12345"}, {"conversation_key", "poll1"}, {"conversation_type", "vxpolls"}}));
  EXPECT_EQ(host.metric("messages_routed"), 1);
}

TEST_F(TagRouterTest, AnUnmappedTagContinuesWithNoOutput) {
  auto run = make().run(inbound("99999"), kConfig);
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_FALSE(run.output);
  EXPECT_TRUE(host.published().empty());
  EXPECT_TRUE(host.logged("tag longcode:99999 is not routed"));
}

TEST_F(TagRouterTest, UnmappedTagsNeedNoConversationTypes) {
  auto run = make().run(inbound("99999"), R"({"routes":{"longcode:12345":"poll1"}})");
  EXPECT_TRUE(run.continued()) << run.error;
}

TEST_F(TagRouterTest, KeepsExistingGoMetadata) {
  json::object message = json::parse(make_user_message()).as_object();
  message["helper_metadata"].as_object()["go"] = json::object{{"router_key", "r1"}};
  auto run = make().run(
      make_event("acct1", "transport", "longcode:12345", "inbound_message", json::serialize(message)),
      kConfig);
  ASSERT_TRUE(run.stopped()) << run.error;
  const json::value& go = host.published().at(0).body.at("helper_metadata").at("go");
  EXPECT_EQ(go.at("router_key"), "r1");
  EXPECT_EQ(go.at("user_account"), "acct1");
}

TEST_F(TagRouterTest, FallsBackToTheMessagesTagOutsideTransportEvents) {
  const std::string event = make_event("acct1", "custom", "whatever", "inbound_message", make_user_message());
  auto run = make().run(event, kConfig);
  ASSERT_TRUE(run.stopped()) << run.error;
  EXPECT_EQ(host.published().at(0).topic, "conversation.vxpolls.poll1");
}

TEST_F(TagRouterTest, FailsOnAMessageWithoutTag) {
  UserMessageSpec spec;
  spec.tag_pool.clear();
  auto run =
      make().run(make_event("acct1", "custom", "notag", "inbound_message", make_user_message(spec)), kConfig);
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(
      run.error,
      "the inbound message has no tag: conversation_key is not \"pool:tag\" and helper_metadata.tag.tag is "
      "missing");
  EXPECT_TRUE(host.published().empty());
}

TEST_F(TagRouterTest, FailsOnOtherEventTypes) {
  auto run = make().run(make_event("acct1", "vxpolls", "poll1", "poll_complete"), kConfig);
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error, "tag_router handles inbound_message events only, got event_type \"poll_complete\"");
}

TEST_F(TagRouterTest, FailsWhenTheRoutedConversationHasNoType) {
  auto run = make().run(inbound(),
                        R"({"routes":{"longcode:12345":"poll2"},"conversation_types":{"poll1":"vxpolls"}})");
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error,
            "conversation \"poll2\" (routed from tag longcode:12345) has no conversation_type: declare it in "
            "the account's conversations or give config.conversation_types");
  EXPECT_TRUE(host.published().empty());
}

TEST_F(TagRouterTest, TakesTheConversationTypeFromTheAccountWhenConfigGivesNone) {
  host.declare_account("acct1", {{"poll1", "vxpolls"}}, {"longcode:12345"});
  auto run = make().run(inbound(), R"({"routes":{"longcode:12345":"poll1"}})");
  ASSERT_TRUE(run.stopped()) << run.error;
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "conversation.vxpolls.poll1");
}

TEST_F(TagRouterTest, FailsWhenNeitherConfigNorAccountKnowsTheType) {
  auto run = make().run(inbound(), R"({"routes":{"longcode:12345":"poll1"}})");
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error,
            "conversation \"poll1\" (routed from tag longcode:12345) has no conversation_type: declare it in "
            "the account's conversations or give config.conversation_types");
}

TEST_F(TagRouterTest, RejectsBadStepConfigs) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  auto handler = make();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "config.routes: must be an object of \"pool:tag\" -> conversation_key"},
      {R"({"routes":["longcode:12345"]})",
       "config.routes: must be an object of \"pool:tag\" -> conversation_key"},
      {R"({"routes":{"longcode:12345":7}})",
       "config.routes.longcode:12345: must be a conversation_key, got 7"},
      {R"({"routes":{"longcode:12345":"poll.1"}})",
       R"(config.routes.longcode:12345: must be a conversation_key, got "poll.1")"},
      {R"({"routes":{"longcode:12345":"poll1"},"conversation_types":{"poll1":"vx.polls"}})",
       R"(config.conversation_types.poll1: must be a conversation type, got "vx.polls")"},
      {R"({"routes":{"longcode:12345":"poll1"},"conversation_types":"{{/account/conversations}}"})",
       "conversation \"poll1\" (routed from tag longcode:12345) has no conversation_type: declare it in the "
       "account's conversations or give config.conversation_types"},
  };
  for (const auto& [config, message] : cases) {
    auto run = handler.run(inbound(), config);
    EXPECT_TRUE(run.failed()) << config;
    EXPECT_EQ(run.error, message);
  }
  EXPECT_TRUE(host.published().empty());
}

TEST_F(TagRouterTest, TakesNoOptions) {
  // The handler takes no options; the host rejects unknown keys before create(), so create() ignores them.
  EXPECT_TRUE(host.options_schema("tag_router").at("properties").as_object().empty());
  EXPECT_TRUE(host.try_instantiate("tag_router").handler);
}

}  // namespace
