#include "transport/topic_derivation.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace vumi::transport {
namespace {

std::string topic_or_error(std::string_view body) {
  auto result = derive_topic(boost::json::parse(body).as_object());
  if (!result) return "error " + result.error().text();
  return *result;
}

TEST(DeriveTopic, EventFromItsFields) {
  EXPECT_EQ(topic_or_error(R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",
                               "event_type":"poll_complete","event_data":{}})"),
            "event.acct1.vxpolls.poll_complete");
}

TEST(DeriveTopic, UserMessageByTypeOrByTransportAndTag) {
  EXPECT_EQ(topic_or_error(R"({"message_type":"user_message","transport_name":"sms_in"})"), "inbound.sms_in");
  EXPECT_EQ(
      topic_or_error(R"({"transport_name":"sms_in","helper_metadata":{"tag":{"tag":["longcode","1"]}}})"),
      "inbound.sms_in");
}

TEST(DeriveTopic, CommandByItsWorker) {
  EXPECT_EQ(topic_or_error(R"({"worker_name":"bulk_worker","command":"send","args":[],"kwargs":{}})"),
            "command.bulk_worker");
  EXPECT_EQ(topic_or_error(R"({"command":"send"})"), "error missing_field: worker_name");
}

TEST(DeriveTopic, NamesTheFieldItCannotUse) {
  EXPECT_EQ(topic_or_error(R"({"account_key":"a","conversation_type":"t"})"),
            "error missing_field: event_type");
  EXPECT_EQ(
      topic_or_error(R"({"account_key":"a","event_type":"e"})"),
      "error missing_field: conversation_type (publish needs it for the topic; put it in the body or pass "
      "--topic)");
  EXPECT_EQ(topic_or_error(R"({"account_key":7,"conversation_type":"t","event_type":"e"})"),
            "error wrong_type: account_key is integer, expected string");
  EXPECT_EQ(topic_or_error(R"({"account_key":"a.b","conversation_type":"t","event_type":"e"})").substr(0, 37),
            "error bad_identifier: account_key \"a.");
  EXPECT_EQ(topic_or_error(R"({"message_type":"user_message"})"), "error missing_field: transport_name");
}

}  // namespace
}  // namespace vumi::transport
