// Unit tests of @NAME@ on the SDK's fake host: the same descriptor and schema checks as the daemon.
#include <gtest/gtest.h>

#include <vumi/testing.hpp>

namespace {

using vumi::testing::FakeHost;
using vumi::testing::make_event;

class @NAME@Test : public ::testing::Test {
 protected:
  void SetUp() override { host.load_file(PLUGIN_FILE); }
  FakeHost host;
};

TEST_F(@NAME@Test, LabelsTheText) {
  auto handler = host.instantiate("@NAME@", R"({"label":"greeting"})");
  auto run = handler.run(make_event("acct1", "vxpolls", "poll1", "poll_complete"), R"({"text":"hello"})");
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_TRUE(run.output);
  EXPECT_EQ(run.output->at("label"), "greeting");
  EXPECT_EQ(run.output->at("text"), "hello");
  EXPECT_EQ(host.metric("texts_labelled"), 1);
  EXPECT_TRUE(host.logged("greeting: hello"));
}

TEST_F(@NAME@Test, TheDefaultLabelIsNote) {
  auto run = host.instantiate("@NAME@").run(make_event("acct1", "vxpolls", "poll1", "poll_complete"),
                                             R"({"text":"hi"})");
  ASSERT_TRUE(run.output);
  EXPECT_EQ(run.output->at("label"), "note");
}

TEST_F(@NAME@Test, AStepWithoutTextIsRefusedByTheSchema) {
  // The fake host checks step configs against kStepSchema, as the daemon does.
  auto run = host.instantiate("@NAME@").run(make_event("acct1", "vxpolls", "poll1", "poll_complete"), "{}");
  EXPECT_TRUE(run.failed());
  EXPECT_NE(run.error.find("text"), std::string::npos) << run.error;
}

}  // namespace
