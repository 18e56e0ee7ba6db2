#include <gmock/gmock.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <sstream>

#include "crash/message_key.hpp"
#include "dispatch/crash_guard.hpp"
#include "dispatch_fixture.hpp"

namespace vumi::testing_support {
namespace {

using ::testing::HasSubstr;

// Handlers of the example plugin, one instance each.
constexpr const char* kHandlers = R"(
  "handlers": {
    "set":   { "type": "set_output" },
    "emit":  { "type": "emit_event" },
    "fail":  { "type": "fail_step" },
    "throw": { "type": "throw_step" },
    "stop":  { "type": "stop_chain" },
    "log":   { "type": "log_event" },
    "noop":  { "type": "noop" }
  },)";

std::string config_with(const std::string& accounts) {
  return std::string("{") + kHandlers + accounts + "}";
}

TEST_F(DispatchTest, TwoStepChainSecondStepReadsFirstStepOutputThroughTemplate) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [
        { "handler": "set", "as": "contact",
          "config": { "output": { "msisdn": "{{/event/event_data/from_addr}}", "age": "{{/event/event_data/age}}" } } },
        { "handler": "emit",
          "config": { "event_type": "contact_made",
                      "event_data": { "to": "{{/steps/contact/msisdn}}", "age": "{{/steps/contact/age}}",
                                      "note": "Thanks {{/steps/contact/msisdn}} from {{/account/key}}" } } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete", {{"from_addr", "+27831234567"}, {"age", 42}});

  auto events = sink.with_prefix("event.acct1.vxpolls.contact_made");
  ASSERT_EQ(events.size(), 1u);
  const auto& data = events[0].body.at("event_data").as_object();
  EXPECT_EQ(data.at("to"), "+27831234567");
  EXPECT_EQ(data.at("age"), 42);  // an exact template keeps the JSON type
  EXPECT_EQ(data.at("note"), "Thanks +27831234567 from acct1");
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_EQ(dispatcher->counters().chains_run, 1u);
  EXPECT_EQ(dispatcher->counters().emitted, 1u);
}

TEST_F(DispatchTest, OnlyMatchingRouteRunsAndAllMatchesRunInConfigOrder) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [
        { "on": { "conversation_key": "poll1", "event_type": "poll_complete" },
          "chain": [ { "handler": "emit", "config": { "event_type": "first" } } ] },
        { "on": { "conversation_key": "poll1", "event_type": "opted_out" },
          "chain": [ { "handler": "emit", "config": { "event_type": "wrong" } } ] },
        { "on": { "event_type": "poll_complete" },
          "chain": [ { "handler": "emit", "config": { "event_type": "second" } },
                     { "handler": "emit", "config": { "event_type": "third" } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete");

  auto events = sink.with_prefix("event.");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].topic, "event.acct1.vxpolls.first");
  EXPECT_EQ(events[1].topic, "event.acct1.vxpolls.second");
  EXPECT_EQ(events[2].topic, "event.acct1.vxpolls.third");
}

// Step timings are kept by handler type; a chain of more types than the runner remembers as
// recent (four) still counts each step under its own type.
TEST_F(DispatchTest, StepTimingsCountEachStepUnderItsHandlerType) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [
        { "handler": "set", "config": { "output": {} } }, { "handler": "log" }, { "handler": "noop" },
        { "handler": "emit", "config": { "event_type": "side" } },
        { "handler": "set", "config": { "output": {} } }, { "handler": "log" }, { "handler": "noop" },
        { "handler": "emit", "config": { "event_type": "side" } }, { "handler": "stop" } ] } ] } })"));
  for (int i = 0; i < 3; ++i) send_event("acct1", "vxpolls", "poll1", "poll_complete");

  const auto& timings = dispatcher->counters().step_timings;
  std::map<std::string, std::uint64_t> counts;
  for (const auto& [type, t] : timings) counts[type] = t.count;
  EXPECT_EQ(counts,
            (std::map<std::string, std::uint64_t>{
                {"emit_event", 6}, {"log_event", 6}, {"noop", 6}, {"set_output", 6}, {"stop_chain", 3}}));
  EXPECT_TRUE(dead_letters().empty());
}

TEST_F(DispatchTest, EmittedEventTriggersSecondChainWithCausationAndDepth) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [
        { "on": { "event_type": "poll_complete" },
          "chain": [ { "handler": "emit", "config": { "event_type": "followup", "event_data": { "n": 1 } } } ] },
        { "on": { "event_type": "followup" },
          "chain": [ { "handler": "emit", "config": { "event_type": "final", "event_data": { "n": "{{/event/event_data/n}}" } } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete");

  auto followups = sink.with_prefix("event.acct1.vxpolls.followup");
  auto finals = sink.with_prefix("event.acct1.vxpolls.final");
  ASSERT_EQ(followups.size(), 1u);
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].body.at("event_data").at("n"), 1);
  EXPECT_EQ(finals[0].body.at("depth"), 2);
  EXPECT_EQ(finals[0].body.at("causation_id"), followups[0].body.at("event_id"));
  EXPECT_EQ(finals[0].body.at("account_key"), "acct1");
}

TEST_F(DispatchTest, SelfTriggeringHandlerStopsAtMaxDepthWithOneDeadLetter) {
  start(config_with(R"(
    "limits": { "max_emit_depth": 8 },
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "ping" },
                    "chain": [ { "handler": "emit", "config": { "event_type": "ping" } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "ping");

  EXPECT_EQ(dispatcher->counters().chains_run, 9u);  // depths 0..8
  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "max_depth");
  EXPECT_THAT(letters[0].message, HasSubstr("depth 9"));
  EXPECT_EQ(letters[0].account_key, "acct1");
}

TEST_F(DispatchTest, FailingStepEndsChainWithDeadLetterNamingRouteAndStep) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [
        { "handler": "log" },
        { "handler": "fail", "config": { "message": "no credit" } },
        { "handler": "emit", "config": { "event_type": "never" } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete");

  EXPECT_TRUE(sink.with_prefix("event.").empty());
  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "step_failed");
  EXPECT_EQ(letters[0].message, "no credit");
  EXPECT_EQ(letters[0].route, "accounts.acct1.routes[0]");
  EXPECT_EQ(letters[0].step, "chain[1] (handler \"fail\")");
  EXPECT_THAT(letters[0].input, HasSubstr("poll_complete"));
  EXPECT_EQ(dispatcher->counters().chains_failed, 1u);
}

TEST_F(DispatchTest, ThrowingHandlerIsCaughtAtTheBarrier) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": {}, "chain": [ { "handler": "throw" } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "anything");
  send_event("acct1", "vxpolls", "poll1", "again");

  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_THAT(letters[0].message, HasSubstr("thrown on purpose"));
}

TEST_F(DispatchTest, TemplatePointerToNothingFailsTheStepNamingIt) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": {}, "chain": [
        { "handler": "emit", "config": { "event_type": "x", "event_data": { "v": "{{/event/event_data/missing}}" } } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete");

  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_THAT(letters[0].message, HasSubstr("/event/event_data/missing"));
  EXPECT_TRUE(sink.with_prefix("event.").empty());
}

TEST_F(DispatchTest, RenderedConfigOutsideTheStepSchemaIsADeadLetterNamingThePath) {
  // check accepts the template; only the event decides what it renders to.
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [
        { "handler": "emit", "config": { "event_type": "{{/event/event_data/kind}}" } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete", boost::json::parse(R"({"kind":42})").as_object());
  // The sentinel: its config renders valid, so the plugin runs.
  send_event("acct1", "vxpolls", "poll1", "poll_complete",
             boost::json::parse(R"({"kind":"fine"})").as_object());

  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "step_failed");
  EXPECT_EQ(letters[0].message,
            "rendered config does not match the step schema: "
            "accounts.acct1.routes[0].chain[0].config.event_type: expected string, got integer");
  EXPECT_EQ(letters[0].step, "chain[0] (handler \"emit\")");
  // The plugin never saw the bad config; the sentinel's config was valid and ran.
  ASSERT_EQ(sink.with_prefix("event.").size(), 1u);
  EXPECT_EQ(sink.with_prefix("event.")[0].body.at("event_type"), "fine");
}

TEST_F(DispatchTest, StopEndsTheChainSuccessfully) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": {}, "chain": [ { "handler": "stop" },
                                         { "handler": "emit", "config": { "event_type": "never" } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "poll_complete");
  EXPECT_TRUE(sink.with_prefix("event.").empty());
  EXPECT_TRUE(dead_letters().empty());
}

TEST_F(DispatchTest, AStopLeavesADebugLineNamingRouteAndStep) {
  start(config_with(R"(
    "accounts": { "acct1": {
      "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": {}, "chain": [ { "handler": "noop" }, { "handler": "stop" } ] } ] } })"));
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("captured",
                                                 std::make_shared<spdlog::sinks::ostream_sink_st>(captured));
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  send_event("acct1", "vxpolls", "poll1", "poll_complete");
  spdlog::set_default_logger(previous);
  EXPECT_THAT(captured.str(), HasSubstr("debug route accounts.acct1.routes[0] stopped at "
                                        "accounts.acct1.routes[0].chain[1] (handler \"stop\") for event "));
}

TEST_F(DispatchTest, RejectedMessagesAreCountedByReasonAndDeadLettered) {
  start(config_with(R"(
    "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" }, "routes": [] } })"));
  dispatcher->handle("event.acct1.vxpolls.x", "{not json");
  dispatcher->handle(
      "event.nobody.vxpolls.x",
      R"({"account_key":"nobody","conversation_key":"c","conversation_type":"vxpolls","event_type":"x","event_data":{}})");
  dispatcher->handle("bogus.topic", "{}");
  send_event("acct1", "vxpolls", "poll1", "fine");

  const auto& c = dispatcher->counters();
  EXPECT_EQ(c.received, 4u);
  EXPECT_EQ(c.rejected[static_cast<std::size_t>(event::Reason::invalid_json)], 1u);
  EXPECT_EQ(c.rejected[static_cast<std::size_t>(event::Reason::unknown_account)], 1u);
  EXPECT_EQ(c.rejected[static_cast<std::size_t>(event::Reason::bad_topic)], 1u);
  EXPECT_EQ(c.rejected_total(), 3u);
  EXPECT_EQ(c.events, 1u);
  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 3u);
  EXPECT_EQ(letters[0].reason, "invalid_json");
  EXPECT_EQ(letters[0].input, "{not json");
}

TEST_F(DispatchTest, CommandsAreForwardedUnchanged) {
  start(config_with(R"("accounts": {})"));
  const std::string body = R"({"command": "send_message", "worker_name": "bulk", "kwargs": {"x": 1}})";
  dispatcher->handle("command.bulk_worker", body);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].topic, "command.bulk_worker");
  EXPECT_EQ(boost::json::serialize(sink.sent[0].body), boost::json::serialize(boost::json::parse(body)));
  EXPECT_EQ(dispatcher->counters().commands_forwarded, 1u);
}

boost::json::object user_message(std::string_view pool, std::string_view tag, std::string_view content) {
  return {{"message_id", "msg1"},
          {"message_version", "20110921"},
          {"message_type", "user_message"},
          {"to_addr", "12345"},
          {"from_addr", "+27831234567"},
          {"content", content},
          {"transport_name", "sms_transport"},
          {"transport_type", "sms"},
          {"helper_metadata", {{"tag", {{"tag", boost::json::array{pool, tag}}}}}}};
}

TEST_F(DispatchTest, InboundMessageBecomesInboundMessageEventOfTheTagOwner) {
  start(config_with(R"(
    "accounts": {
      "acct1": { "tags": ["longcode:12345"], "routes": [ { "on": { "event_type": "inbound_message" },
        "chain": [ { "handler": "emit", "config": { "event_type": "seen",
                     "event_data": { "content": "{{/event/event_data/content}}", "key": "{{/event/conversation_key}}",
                                     "type": "{{/event/conversation_type}}", "owned": "{{/account/tags}}",
                                     "types": "{{/account/conversations}}" } } } ] } ] },
      "acct2": { "tags": ["longcode:999"], "routes": [] } })"));
  dispatcher->handle("inbound.sms_transport",
                     boost::json::serialize(user_message("longcode", "12345", "hi")));

  auto seen = sink.with_prefix("event.acct1.transport.seen");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body.at("event_data").at("content"), "hi");
  EXPECT_EQ(seen[0].body.at("event_data").at("key"), "longcode:12345");
  EXPECT_EQ(seen[0].body.at("event_data").at("type"), "transport");
  EXPECT_EQ(seen[0].body.at("event_data").at("owned"), (boost::json::array{"longcode:12345"}));
  EXPECT_EQ(seen[0].body.at("event_data").at("types"), boost::json::object());
}

TEST_F(DispatchTest, UnownedTagAndUnroutedInboundAreDeadLetters) {
  start(config_with(R"(
    "accounts": { "acct2": { "tags": ["longcode:999"], "routes": [] } })"));
  dispatcher->handle("inbound.sms_transport", boost::json::serialize(user_message("longcode", "555", "hi")));
  dispatcher->handle("inbound.sms_transport", boost::json::serialize(user_message("longcode", "999", "hi")));

  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].reason, "unowned_tag");
  EXPECT_THAT(letters[0].message, HasSubstr("longcode:555"));
  EXPECT_EQ(letters[1].reason, "no_route");
  EXPECT_EQ(letters[1].account_key, "acct2");
}

// How the worker pool picks an inbound message's worker: by the account owning its tag, decoded
// after the quarantine check (a quarantined message is not decoded: it runs alone and is refused).
TEST_F(DispatchTest, InboundOwnerIsTheTagsAccountAndNoneForAQuarantinedMessage) {
  start(config_with(R"(
    "accounts": { "acct2": { "tags": ["longcode:999"], "routes": [] } })"));
  const std::string owned = boost::json::serialize(user_message("longcode", "999", "hi"));
  const std::string poison = boost::json::serialize(user_message("longcode", "999", "crashed us before"));
  ASSERT_TRUE(
      store->quarantine_put(crash::body_key("inbound.sms_transport", poison), "", "report").has_value());
  dispatch::CrashGuard guard(dir.path(), *store);
  dispatcher->guard_crashes(guard);

  EXPECT_EQ(dispatcher->inbound_owner("inbound.sms_transport", owned), "acct2");
  EXPECT_EQ(dispatcher->inbound_owner("inbound.sms_transport", poison), "");
  EXPECT_EQ(dispatcher->inbound_owner("inbound.sms_transport",
                                      boost::json::serialize(user_message("longcode", "555", "hi"))),
            "");                                                               // a tag no account owns
  EXPECT_EQ(dispatcher->inbound_owner("inbound.sms_transport", "{oops"), "");  // does not decode
  // Nothing was handled: the check neither counts nor dead-letters.
  EXPECT_EQ(dispatcher->counters().received, 0u);
  EXPECT_TRUE(dead_letters().empty());
  EXPECT_EQ(dispatcher->handle("inbound.sms_transport", poison), dispatch::HandleOutcome::rejected);
  EXPECT_EQ(dispatcher->counters().quarantined, 1u);
}

TEST_F(DispatchTest, ReplacingTheRuntimeTakesEffectForTheNextMessage) {
  start(config_with(R"(
    "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "go" }, "chain": [ { "handler": "emit", "config": { "event_type": "old" } } ] } ] } })"));
  send_event("acct1", "vxpolls", "poll1", "go");

  auto loaded = config::parse_config(config_with(R"(
    "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" },
      "routes": [ { "on": { "event_type": "go" }, "chain": [ { "handler": "emit", "config": { "event_type": "new" } } ] } ] } })"),
                                     "reload");
  ASSERT_TRUE(loaded.ok());
  loaded.config->plugin_path = {VUMI_PLUGIN_DIR "/example.so"};
  auto next = dispatch::Runtime::build(std::move(*loaded.config));
  ASSERT_TRUE(next);
  dispatcher->replace_runtime(*next);
  send_event("acct1", "vxpolls", "poll1", "go");

  EXPECT_EQ(sink.with_prefix("event.acct1.vxpolls.old").size(), 1u);
  EXPECT_EQ(sink.with_prefix("event.acct1.vxpolls.new").size(), 1u);
}

}  // namespace
}  // namespace vumi::testing_support
