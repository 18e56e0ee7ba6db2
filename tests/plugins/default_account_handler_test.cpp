// default_account_handler through the SDK's fake host.
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

constexpr const char* kReply = R"({"auto_reply":"Sorry, nothing is running on this number."})";

UserMessageSpec unrouted_spec() {
  UserMessageSpec spec;
  spec.message_id = "aaaabbbbccccddddeeeeffff00001111";
  spec.from_addr = "+27820000042";
  spec.to_addr = "54321";
  spec.content = "anyone there?";
  spec.transport_name = "sms_transport";
  spec.transport_type = "sms";
  spec.tag = "54321";
  return spec;
}

std::string inbound(const std::string& message = make_user_message(unrouted_spec())) {
  return make_inbound_event("acct1", message);
}

class DefaultAccountHandlerTest : public vumi::plugin_tests::PluginTest {
 protected:
  DefaultAccountHandlerTest() : PluginTest("default_account_handler") {}
};

TEST_F(DefaultAccountHandlerTest, ReadmeTablesMatchTheDeclaredSchema) {
  expect_readme_matches_declared_schema();
}

TEST_F(DefaultAccountHandlerTest, KeepsTheMessageAndEmitsUnroutedMessage) {
  const std::string message_text = make_user_message(unrouted_spec());
  const json::value message = json::parse(message_text);
  auto run = make().run(inbound(message_text));
  ASSERT_TRUE(run.continued()) << run.error;

  ASSERT_EQ(host.inbox("acct1").size(), 1u);
  const auto entry = host.inbox("acct1")[0];
  EXPECT_EQ(entry.message, message);
  ASSERT_TRUE(run.output);
  EXPECT_EQ(*run.output, (json::object{{"inbox_id", entry.id}}));
  EXPECT_TRUE(host.published().empty());  // no auto_reply configured

  ASSERT_EQ(host.emitted().size(), 1u);
  const json::object& e = host.emitted()[0];
  EXPECT_EQ(e.at("event_type"), "unrouted_message");
  EXPECT_EQ(e.at("account_key"), "acct1");
  EXPECT_EQ(e.at("conversation_type"), "transport");
  EXPECT_EQ(e.at("conversation_key"), "longcode:54321");
  EXPECT_EQ(e.at("event_data"), (json::object{{"inbox_id", entry.id}, {"message", message}}));
  EXPECT_EQ(host.metric("messages_kept"), 1);
}

TEST_F(DefaultAccountHandlerTest, AutoRepliesToTheSender) {
  auto run = make().run(inbound(), kReply);
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "outbound.sms_transport");
  const json::object& r = host.published()[0].body;

  EXPECT_EQ(r.at("message_version"), "20110921");
  EXPECT_EQ(r.at("message_type"), "user_message");
  EXPECT_EQ(r.at("message_id").as_string().size(), 32u);
  EXPECT_NE(r.at("message_id"), "aaaabbbbccccddddeeeeffff00001111");
  EXPECT_EQ(r.at("in_reply_to"), "aaaabbbbccccddddeeeeffff00001111");
  EXPECT_EQ(r.at("to_addr"), "+27820000042");
  EXPECT_EQ(r.at("from_addr"), "54321");
  EXPECT_EQ(r.at("content"), "Sorry, nothing is running on this number.");
  EXPECT_EQ(r.at("transport_name"), "sms_transport");
  EXPECT_EQ(r.at("transport_type"), "sms");
  EXPECT_TRUE(r.at("session_event").is_null());
  EXPECT_EQ(r.at("transport_metadata"), json::object{});
  EXPECT_EQ(r.at("helper_metadata"),
            (json::object{{"tag", json::object{{"tag", json::array{"longcode", "54321"}}}},
                          {"go", json::object{{"user_account", "acct1"}}}}));
  EXPECT_TRUE(r.contains("timestamp"));
  EXPECT_EQ(r.size(), 13u) << json::serialize(r);

  const std::int64_t inbox_id = host.inbox("acct1").at(0).id;
  EXPECT_EQ(*run.output, (json::object{{"inbox_id", inbox_id}, {"reply_message_id", r.at("message_id")}}));
  EXPECT_EQ(host.emitted().size(), 1u);
  EXPECT_EQ(host.metric("auto_replies_sent"), 1);
}

TEST_F(DefaultAccountHandlerTest, RepliesOnTheInboundTransport) {
  UserMessageSpec spec = unrouted_spec();
  spec.transport_name = "ussd_transport";
  spec.transport_type = "ussd";
  ASSERT_TRUE(make().run(inbound(make_user_message(spec)), kReply).continued());
  EXPECT_EQ(host.published().at(0).topic, "outbound.ussd_transport");
  EXPECT_EQ(host.published().at(0).body.at("transport_type"), "ussd");
}

TEST_F(DefaultAccountHandlerTest, NullAutoReplyMeansNoReply) {
  auto run = make().run(inbound(), R"({"auto_reply":null})");
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_TRUE(host.published().empty());
  EXPECT_EQ(host.inbox("acct1").size(), 1u);
}

TEST_F(DefaultAccountHandlerTest, AReplyThatCannotBeMadeStoresNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"transport_name", "cannot auto-reply: the inbound message has no usable transport_name"},
      {"message_id", "cannot auto-reply: the inbound message has no message_id"},
      {"from_addr", "cannot auto-reply: the inbound message has no from_addr to reply to"},
  };
  auto handler = make();
  for (const auto& [missing, message] : cases) {
    json::object m = json::parse(make_user_message(unrouted_spec())).as_object();
    m.erase(missing);
    auto run = handler.run(inbound(json::serialize(m)), kReply);
    EXPECT_TRUE(run.failed()) << missing;
    EXPECT_EQ(run.error, message);
  }
  json::object bad_transport = json::parse(make_user_message(unrouted_spec())).as_object();
  bad_transport["transport_name"] = "sms.transport";
  EXPECT_TRUE(handler.run(inbound(json::serialize(bad_transport)), kReply).failed());

  EXPECT_TRUE(host.inbox("acct1").empty());
  EXPECT_TRUE(host.published().empty());
  EXPECT_TRUE(host.emitted().empty());
  // Without an auto_reply the same message is simply kept.
  json::object no_transport = json::parse(make_user_message(unrouted_spec())).as_object();
  no_transport.erase("transport_name");
  EXPECT_TRUE(handler.run(inbound(json::serialize(no_transport))).continued());
  EXPECT_EQ(host.inbox("acct1").size(), 1u);
}

TEST_F(DefaultAccountHandlerTest, RejectsBadStepConfigs) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  auto handler = make();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"auto_reply":""})", "config.auto_reply: must not be empty"},
      {R"({"auto_reply":"   "})", "config.auto_reply: must not be empty"},
      {R"({"auto_reply":42})", "config.auto_reply: must be a string, got 42"},
  };
  for (const auto& [config, message] : cases) {
    auto run = handler.run(inbound(), config);
    EXPECT_TRUE(run.failed()) << config;
    EXPECT_EQ(run.error, message);
  }
  EXPECT_TRUE(host.inbox("acct1").empty());
}

TEST_F(DefaultAccountHandlerTest, FailsOnOtherEventTypes) {
  auto run = make().run(make_event("acct1", "vxpolls", "poll1", "poll_complete"));
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error,
            "default_account_handler handles inbound_message events only, got event_type \"poll_complete\"");
  EXPECT_TRUE(host.inbox("acct1").empty());
}

TEST_F(DefaultAccountHandlerTest, AnInboxFailureFailsTheStepBeforeAnyReply) {
  host.fail_service("inbox_put", VUMI_ERR_INTERNAL);
  auto run = make().run(inbound(), kReply);
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error, "exception: inbox_put failed: internal");
  EXPECT_TRUE(host.published().empty());
  EXPECT_TRUE(host.emitted().empty());
}

}  // namespace
