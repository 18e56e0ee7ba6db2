// Several plugins compiled into one test binary and loaded into one fake host: each plugin's sources
// are built with -DVUMI_PLUGIN_ENTRY_AS=<name>_entry (tests/plugins/CMakeLists.txt).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vumi/testing.hpp>

VUMI_TESTING_ENTRY(create_contact_entry);
VUMI_TESTING_ENTRY(send_sms_entry);

namespace {

using vumi::testing::make_event;

TEST(SeveralPlugins, TwoPluginsInOneBinaryLoadIntoOneHostAndRunTogether) {
  vumi::testing::FakeHost host;
  EXPECT_EQ(std::string(host.load(&create_contact_entry).name), "create_contact");
  EXPECT_EQ(std::string(host.load(&send_sms_entry).name), "send_sms");

  const std::string event =
      make_event("acct1", "vxpolls", "poll1", "poll_complete", R"({"from_addr":"+27820000001"})");
  auto contact = host.instantiate("create_contact", "{}");
  auto created = contact.run(event, R"({"fields":{"msisdn":"+27820000001","name":"Ann"}})");
  ASSERT_TRUE(created.continued()) << created.error;
  auto sms = host.instantiate("send_sms", R"({"transport_name":"sms_transport"})");
  auto sent = sms.run(event, R"({"to_addr":"+27820000001","content":"Thanks Ann!"})");
  ASSERT_TRUE(sent.continued()) << sent.error;

  ASSERT_EQ(host.contacts("acct1").size(), 1u);
  EXPECT_EQ(host.contacts("acct1")[0].at("name"), "Ann");
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "outbound.sms_transport");
}

TEST(SeveralPlugins, TwoHostsInOneBinaryAreIndependent) {
  vumi::testing::FakeHost first;
  vumi::testing::FakeHost second;
  first.load(&send_sms_entry);
  second.load(&send_sms_entry);
  auto sms = first.instantiate("send_sms", R"({"transport_name":"t"})");
  auto run = sms.run(make_event("acct1", "vxpolls", "poll1", "poll_complete", "{}"),
                     R"({"to_addr":"+27820000001","content":"hi"})");
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(first.published().size(), 1u);
  EXPECT_TRUE(second.published().empty());
}

}  // namespace
