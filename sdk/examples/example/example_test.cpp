// The example plugin on the SDK's fake host, built out of tree against the installed SDK.
#include <gtest/gtest.h>

#include <vumi/testing.hpp>

namespace {

using vumi::testing::FakeHost;
using vumi::testing::make_event;

class Example : public ::testing::Test {
 protected:
  void SetUp() override { host.load_file(PLUGIN_FILE); }
  FakeHost host;
  const std::string event = make_event("acct1", "vxpolls", "poll1", "poll_complete");
};

TEST_F(Example, SetOutputStoresItsConfiguredObject) {
  auto run = host.instantiate("set_output").run(event, R"({"output":{"n":1}})");
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("n"), 1);
}

TEST_F(Example, EmitEventIsCompletedFromItsParent) {
  auto run = host.instantiate("emit_event").run(event, R"({"event_type":"thanked"})");
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_EQ(host.emitted().size(), 1u);
  EXPECT_EQ(host.emitted()[0].at("account_key"), "acct1");
  EXPECT_EQ(host.emitted()[0].at("depth"), 1);
}

TEST_F(Example, FailAndThrowFailTheStep) {
  EXPECT_EQ(host.instantiate("fail_step").run(event, R"({"message":"no credit"})").error, "no credit");
  EXPECT_EQ(host.instantiate("throw_step").run(event).error, "exception: thrown on purpose");
}

TEST_F(Example, AConfigOutsideTheSchemaIsRefusedAsTheDaemonRefusesIt) {
  auto run = host.instantiate("emit_event").run(event, R"({"event_type":42})");
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(
      run.error,
      "rendered config does not match the step schema: config.event_type: expected string, got integer");
}

}  // namespace
