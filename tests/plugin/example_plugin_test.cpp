// The example plugin's handlers, called through the ABI exactly as the dispatcher calls them.
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <sstream>
#include <string>

#include "plugin/handler_instance.hpp"
#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

// What one step did.
struct StepRun {
  vumi_step_result result = VUMI_STEP_FAIL;
  std::string error;
  testing::FakeServices services;
};

class ExamplePlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.load_file(testing::example_plugin())) << registry_.refusals().at(0).text();
  }

  // Creates an instance of type_name with no options and runs one step with config_json.
  std::unique_ptr<StepRun> run(const std::string& type_name, const std::string& config_json) {
    auto step = std::make_unique<StepRun>();
    auto created = HandlerInstance::create(registry_.find(type_name), "instance", "{}");
    if (!created) {
      ADD_FAILURE() << type_name << ": " << created.error().message;
      return step;
    }
    vumi_call call;
    call.plugin_name = "example";
    call.handler_type = type_name;
    call.services = &step->services;
    const vumi_step_input input = testing::step_input(config_json);
    step->result = (*created)->handle(call, input);
    step->error = call.error;
    return step;
  }

  PluginRegistry registry_;
};

// Sends spdlog's default logger into a string for the test's duration.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(ExamplePlugin, LogEventLogsTheEventAndAccount) {
  CapturedLog log;
  auto step = run("log_event", "{}");
  EXPECT_EQ(step->result, VUMI_STEP_CONTINUE) << step->error;
  EXPECT_EQ(log.text(), "info [example/log_event] poll_complete for acct1\n");
  EXPECT_TRUE(step->services.outputs.empty());
}

TEST_F(ExamplePlugin, LogEventAppendsItsMessage) {
  CapturedLog log;
  auto step = run("log_event", R"({"message":"hello {braces} kept"})");
  EXPECT_EQ(step->result, VUMI_STEP_CONTINUE) << step->error;
  EXPECT_EQ(log.text(), "info [example/log_event] poll_complete for acct1: hello {braces} kept\n");
}

TEST_F(ExamplePlugin, SetOutputStoresTheConfiguredObject) {
  auto step = run("set_output", R"({"output":{"contact_key":"c1","tags":[1,2]}})");
  EXPECT_EQ(step->result, VUMI_STEP_CONTINUE) << step->error;
  ASSERT_EQ(step->services.outputs.size(), 1u);
  EXPECT_EQ(boost::json::parse(step->services.outputs[0]),
            boost::json::parse(R"({"contact_key":"c1","tags":[1,2]})"));
}

TEST_F(ExamplePlugin, EmitEventEmitsWithDefaultEventData) {
  auto step = run("emit_event", R"({"event_type":"poll_done"})");
  EXPECT_EQ(step->result, VUMI_STEP_CONTINUE) << step->error;
  ASSERT_EQ(step->services.emitted.size(), 1u);
  EXPECT_EQ(boost::json::parse(step->services.emitted[0]),
            boost::json::parse(R"({"event_type":"poll_done","event_data":{}})"));
}

TEST_F(ExamplePlugin, EmitEventPassesDataAndConversation) {
  auto step =
      run("emit_event", R"({"event_type":"poll_done","event_data":{"n":3},"conversation_key":"poll2"})");
  EXPECT_EQ(step->result, VUMI_STEP_CONTINUE) << step->error;
  ASSERT_EQ(step->services.emitted.size(), 1u);
  EXPECT_EQ(
      boost::json::parse(step->services.emitted[0]),
      boost::json::parse(R"({"event_type":"poll_done","event_data":{"n":3},"conversation_key":"poll2"})"));
}

TEST_F(ExamplePlugin, FailStepFailsWithItsMessage) {
  auto by_default = run("fail_step", "{}");
  EXPECT_EQ(by_default->result, VUMI_STEP_FAIL);
  EXPECT_EQ(by_default->error, "failed on purpose");
  auto configured = run("fail_step", R"({"message":"no contact"})");
  EXPECT_EQ(configured->result, VUMI_STEP_FAIL);
  EXPECT_EQ(configured->error, "no contact");
}

TEST_F(ExamplePlugin, ThrowStepIsCaughtAtTheBoundary) {
  auto step = run("throw_step", "{}");
  EXPECT_EQ(step->result, VUMI_STEP_FAIL);
  EXPECT_EQ(step->error, "exception: thrown on purpose");
}

TEST_F(ExamplePlugin, StopChainStops) {
  auto step = run("stop_chain", "{}");
  EXPECT_EQ(step->result, VUMI_STEP_STOP) << step->error;
}

TEST_F(ExamplePlugin, NoopContinuesAndTouchesNothing) {
  auto step = run("noop", "{}");
  EXPECT_EQ(step->result, VUMI_STEP_CONTINUE) << step->error;
  EXPECT_TRUE(step->error.empty());
  EXPECT_TRUE(step->services.outputs.empty());
  EXPECT_TRUE(step->services.emitted.empty());
  EXPECT_TRUE(step->services.published.empty());
}

TEST_F(ExamplePlugin, UnparsableConfigFailsTheStepInsteadOfCrashing) {
  auto step = run("set_output", "{not json");
  EXPECT_EQ(step->result, VUMI_STEP_FAIL);
  EXPECT_NE(step->error.find("step config is not JSON"), std::string::npos) << step->error;
}

}  // namespace
}  // namespace vumi::plugin
