// vumi_command through the SDK's fake host: the VumiApiCommand vumi-go's SendMessageCommandHandler
// sends (go/vumitools/handler.py; VumiApiCommand.command in go/vumitools/api.py).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <vumi/testing.hpp>

#include "plugin_test_support.hpp"

namespace {

namespace json = boost::json;
using vumi::testing::make_event;

class VumiCommandTest : public vumi::plugin_tests::PluginTest {
 protected:
  VumiCommandTest() : PluginTest("vumi_command") {}
};

TEST_F(VumiCommandTest, ReadmeTablesMatchTheDeclaredSchema) {
  expect_readme_matches_declared_schema();
}

TEST_F(VumiCommandTest, SendsSendMessageWithTheEventsContent) {
  const std::string event =
      make_event("73ad76ec8c2e40858dc9d6b934049d95", "surveys", "a6a20571e77f4aa89a8b10a771b005bc", "sign_up",
                 R"({"to_addr": "+27831234567", "content": "Welcome"})");
  auto run = make().run(event, R"({"worker_name": "multi_survey_application"})");
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "command.multi_survey_application");
  json::object command = host.published()[0].body;
  const json::value command_id = command.at("command_id");
  EXPECT_EQ(command_id.as_string().size(), 32u);
  command.erase("command_id");
  const json::object expected{
      {"worker_name", "multi_survey_application"},
      {"command", "send_message"},
      {"args", json::array{}},
      {"kwargs",
       json::object{
           {"command_data",
            json::object{
                {"to_addr", "+27831234567"},
                {"content", "Welcome"},
                {"msg_options",
                 json::object{{"helper_metadata",
                               json::object{{"go", json::object{{"user_account",
                                                                 "73ad76ec8c2e40858dc9d6b934049d95"}}}}}}}}},
           {"conversation_key", "a6a20571e77f4aa89a8b10a771b005bc"},
           {"account_key", "73ad76ec8c2e40858dc9d6b934049d95"}}},
  };
  EXPECT_EQ(command, expected) << json::serialize(command);
  ASSERT_TRUE(run.output);
  EXPECT_EQ(*run.output,
            (json::object{{"command_id", command_id}, {"worker_name", "multi_survey_application"}}));
  EXPECT_EQ(host.metric("commands_sent"), 1);
}

TEST_F(VumiCommandTest, ConfigGivesTheCommandItsDataAndConversation) {
  auto run = make().run(make_event("acct1", "surveys", "s1", "done"),
                        R"({"worker_name": "w1", "command": "send_survey", "conversation_key": "s2",
                            "command_data": {"batch_id": "b1"}, "kwargs": {"delivery_class": "sms"}})");
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_EQ(host.published().size(), 1u);
  const json::object& c = host.published()[0].body;
  EXPECT_EQ(c.at("command"), "send_survey");
  const json::object& kwargs = c.at("kwargs").as_object();
  EXPECT_EQ(kwargs.at("delivery_class"), "sms");
  EXPECT_EQ(kwargs.at("conversation_key"), "s2");
  EXPECT_EQ(kwargs.at("command_data").at("batch_id"), "b1");
}

TEST_F(VumiCommandTest, ABadWorkerNameFailsTheStepAndSendsNothing) {
  auto run = make().run(make_event("acct1", "surveys", "s1", "done"), R"({"worker_name": "a.b"})");
  EXPECT_TRUE(run.failed());
  EXPECT_NE(run.error.find("config.worker_name"), std::string::npos) << run.error;
  EXPECT_TRUE(host.published().empty());
}

}  // namespace
