// send_sms through the SDK's fake host.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <vumi/testing.hpp>

#include "plugin_test_support.hpp"

namespace {

namespace json = boost::json;
using vumi::testing::make_event;

std::string poll_event() {
  return make_event("acct1", "vxpolls", "poll1", "poll_complete", R"({"from_addr":"+27820000001"})");
}

constexpr const char* kConfig = R"({"to_addr":"+27820000001","content":"Thanks Ann!"})";

bool is_hex32(const json::value& v) {
  return v.is_string() && v.as_string().size() == 32 &&
         std::string_view(v.as_string()).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

class SendSmsTest : public vumi::plugin_tests::PluginTest {
 protected:
  SendSmsTest() : PluginTest("send_sms", R"({"transport_name":"sms_transport"})") {}
};

TEST_F(SendSmsTest, ReadmeTablesMatchTheDeclaredSchema) {
  expect_readme_matches_declared_schema();
}

TEST_F(SendSmsTest, PublishesAVumiUserMessage) {
  auto run = make().run(poll_event(), kConfig);
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "outbound.sms_transport");
  const json::object& m = host.published()[0].body;

  EXPECT_EQ(m.at("message_version"), "20110921");
  EXPECT_EQ(m.at("message_type"), "user_message");
  EXPECT_TRUE(is_hex32(m.at("message_id"))) << m.at("message_id");
  EXPECT_EQ(m.at("to_addr"), "+27820000001");
  EXPECT_TRUE(m.at("from_addr").is_null());
  EXPECT_EQ(m.at("content"), "Thanks Ann!");
  EXPECT_EQ(m.at("transport_name"), "sms_transport");
  EXPECT_EQ(m.at("transport_type"), "sms");
  EXPECT_TRUE(m.at("in_reply_to").is_null());
  EXPECT_TRUE(m.at("session_event").is_null());
  EXPECT_EQ(m.at("transport_metadata"), json::object{});
  EXPECT_EQ(m.at("helper_metadata"),
            (json::object{{"go", json::object{{"user_account", "acct1"}, {"conversation_key", "poll1"}}}}));
  // "2026-01-02 03:04:05.123456"
  const std::string ts(m.at("timestamp").as_string());
  ASSERT_EQ(ts.size(), 26u) << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], ' ');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(m.size(), 13u) << json::serialize(m);

  ASSERT_TRUE(run.output);
  EXPECT_EQ(*run.output, (json::object{{"message_id", m.at("message_id")}, {"to_addr", "+27820000001"}}));
  EXPECT_EQ(host.metric("messages_sent"), 1);
}

TEST_F(SendSmsTest, OptionsSetTransportTypeAndSender) {
  auto handler = make(R"({"transport_name":"ussd_transport","transport_type":"ussd","from_addr":"*120*1#"})");
  auto run = handler.run(poll_event(), kConfig);
  ASSERT_TRUE(run.continued()) << run.error;
  const auto& p = host.published().at(0);
  EXPECT_EQ(p.topic, "outbound.ussd_transport");
  EXPECT_EQ(p.body.at("transport_type"), "ussd");
  EXPECT_EQ(p.body.at("from_addr"), "*120*1#");
}

TEST_F(SendSmsTest, EachMessageGetsAFreshId) {
  auto handler = make();
  auto a = handler.run(poll_event(), kConfig);
  auto b = handler.run(poll_event(), kConfig);
  EXPECT_NE(a.output->at("message_id"), b.output->at("message_id"));
  EXPECT_EQ(host.published().size(), 2u);
}

TEST_F(SendSmsTest, ConversationKeyFromConfigOrNoneForTransportEvents) {
  auto handler = make();
  ASSERT_TRUE(
      handler.run(poll_event(), R"({"to_addr":"+27820000001","content":"x","conversation_key":"survey9"})")
          .continued());
  EXPECT_EQ(host.published().at(0).body.at("helper_metadata").at("go").at("conversation_key"), "survey9");

  const std::string inbound = vumi::testing::make_inbound_event("acct1", vumi::testing::make_user_message());
  ASSERT_TRUE(handler.run(inbound, kConfig).continued());
  EXPECT_EQ(host.published().at(1).body.at("helper_metadata"),
            (json::object{{"go", json::object{{"user_account", "acct1"}}}}));
}

TEST_F(SendSmsTest, TrimsToAddr) {
  auto run = make().run(poll_event(), R"({"to_addr":" +27820000009 ","content":"hi"})");
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(host.published().at(0).body.at("to_addr"), "+27820000009");
  EXPECT_EQ(run.output->at("to_addr"), "+27820000009");
}

TEST_F(SendSmsTest, RejectsBadStepConfigsWithoutPublishing) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  auto handler = make();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"content":"hi"})", "config.to_addr: is required"},
      {R"({"to_addr":"+27820000001"})", "config.content: is required"},
      {R"({"to_addr":"+27820000001","content":""})", "config.content: must not be empty"},
      {R"({"to_addr":"+27820000001","content":"  \n"})", "config.content: must not be empty"},
      {R"({"to_addr":"","content":"hi"})", "config.to_addr: must not be empty"},
      {R"({"to_addr":27820000001,"content":"hi"})", "config.to_addr: must be a string, got 27820000001"},
      {R"({"to_addr":"+27820000001","content":{"text":"hi"}})",
       R"(config.content: must be a string, got {"text":"hi"})"},
      {R"({"to_addr":"+27820000001","content":"hi","conversation_key":5})",
       "config.conversation_key: must be a non-empty string, got 5"},
  };
  for (const auto& [config, message] : cases) {
    auto run = handler.run(poll_event(), config);
    EXPECT_TRUE(run.failed()) << config;
    EXPECT_EQ(run.error, message);
  }
  EXPECT_TRUE(host.published().empty());
}

TEST_F(SendSmsTest, RefusesBadOptions) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "options.transport_name: is required"},
      {R"({"transport_name":null})", "options.transport_name: is required"},
      {R"({"transport_name":"sms.transport"})",
       R"(options.transport_name: "sms.transport" is not an identifier ([A-Za-z0-9_:-], 1 to 128 characters))"},
      {R"({"transport_name":""})",
       R"(options.transport_name: "" is not an identifier ([A-Za-z0-9_:-], 1 to 128 characters))"},
      {R"({"transport_name":7})", "options.transport_name: must be a string, got 7"},
      {R"({"transport_name":"sms","transport_type":""})", "options.transport_type: must not be empty"},
      {R"({"transport_name":"sms","from_addr":123})", "options.from_addr: must be a string, got 123"},
  };
  for (const auto& [options, message] : cases) {
    auto created = host.try_instantiate("send_sms", options);
    EXPECT_FALSE(created.handler) << options;
    EXPECT_EQ(created.error, message);
  }
}

TEST_F(SendSmsTest, APublishFailureFailsTheStep) {
  host.fail_service("publish", VUMI_ERR_UNAVAILABLE);
  auto run = make().run(poll_event(), kConfig);
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error, "exception: publish failed: unavailable");
  EXPECT_FALSE(run.output);
}

}  // namespace
