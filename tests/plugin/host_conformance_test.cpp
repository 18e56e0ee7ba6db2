// One suite of host-service behaviours, run against the daemon's services (the real loader, the
// real StepServices over a real store) and against the SDK's fake host (vumi/testing.hpp): contact
// merge, status codes, topic rules, emit, metric names, limits. A behaviour the fake host gets
// wrong makes plugin unit tests lie, so both hosts answer to the same expectations.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <vumi/testing.hpp>

#include "../dispatch/dispatch_fixture.hpp"
#include "dispatch/step_services.hpp"
#include "event/envelope_decoder.hpp"
#include "plugin/handler_instance.hpp"
#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

namespace bj = boost::json;

// What one probe step did, as either host reports it.
struct ProbeRun {
  std::vector<std::string> statuses;
  std::vector<std::string> values;
  std::vector<std::string> published_topics;
  std::vector<bj::object> emitted;  // events as the host completed them
};

class HostUnderTest {
 public:
  virtual ~HostUnderTest() = default;
  // Runs the probe once on a poll_complete event of acct1 (conversation vxpolls/poll1).
  virtual ProbeRun run(const bj::array& ops) = 0;
  // The counter the plugin named `name`, under the daemon's full name "<handler_type>.<name>".
  virtual std::int64_t metric(const std::string& full_name) = 0;
};

ProbeRun from_output(const bj::value& output) {
  ProbeRun run;
  for (const bj::value& s : output.at("statuses").as_array()) run.statuses.emplace_back(s.as_string());
  for (const bj::value& v : output.at("values").as_array()) run.values.emplace_back(v.as_string());
  return run;
}

const char* const kEvent =
    R"({"account_key":"acct1","conversation_type":"vxpolls","conversation_key":"poll1",)"
    R"("event_type":"poll_complete","event_id":"0123456789abcdef0123456789abcdef","event_data":{}})";

// The daemon: the real loader, HandlerInstance, StepServices, SQLite store.
class RealHost final : public HostUnderTest, event::AccountDirectory {
 public:
  RealHost() {
    EXPECT_TRUE(registry_.load_file(testing::fixture("conformance_probe")));
    auto probe = HandlerInstance::create(registry_.find("conformance_probe"), "probe", "{}");
    EXPECT_TRUE(probe) << probe.error().message;
    if (probe) probe_ = std::move(probe).value();
    auto decoded = decoder_.decode("event.acct1.vxpolls.poll_complete", kEvent);
    event_ = std::move(std::get<event::Envelope>(std::move(decoded).value()));
    account_.key = "acct1";
    account_.conversations = &conversations_;
  }
  bool has_account(std::string_view a) const override { return a == "acct1"; }
  std::optional<std::string_view> conversation_type(std::string_view, std::string_view key) const override {
    if (key == "poll1") return "vxpolls";
    if (key == "survey1") return "surveys";
    return std::nullopt;
  }

  ProbeRun run(const bj::array& ops) override {
    const std::string config = bj::serialize(bj::object{{"ops", ops}});
    services_.begin_event(decoder_, event_, account_);
    services_.begin_step("conformance_probe");
    vumi_call call;
    call.plugin_name = "conformance_probe";
    call.handler_type = "conformance_probe";
    call.services = &services_;
    const std::size_t sent_before = sink_.sent.size();
    const std::size_t emitted_before = emitted_.size();
    const vumi_step_input input = testing::step_input(config);
    EXPECT_EQ(probe_->handle(call, input), VUMI_STEP_CONTINUE) << call.error;
    ProbeRun run = from_output(services_.output());
    for (std::size_t i = sent_before; i < sink_.sent.size(); ++i)
      run.published_topics.push_back(sink_.sent[i].topic);
    for (std::size_t i = emitted_before; i < emitted_.size(); ++i)
      run.emitted.push_back(emitted_[i].body().as_object());
    return run;
  }
  std::int64_t metric(const std::string& full_name) override {
    auto it = services_.metrics().find(full_name);
    return it == services_.metrics().end() ? 0 : it->second;
  }

 private:
  testing_support::TempDir dir_;
  std::unique_ptr<store::StateStore> store_ = store::StateStore::open(dir_.path());
  testing_support::RecordingSink sink_;
  dispatch::Counters counters_;
  std::deque<event::Envelope> emitted_;
  dispatch::StepServices services_{*store_, sink_, counters_, emitted_};
  PluginRegistry registry_;
  std::unique_ptr<HandlerInstance> probe_;
  event::EnvelopeDecoder decoder_{{}, this};
  event::Envelope event_;
  const config::Conversations conversations_{{"survey1", "surveys"}, {"poll1", "vxpolls"}};
  dispatch::Account account_;
};

// The SDK's fake host, loading the same probe.so.
class FakeHostUnderTest final : public HostUnderTest {
 public:
  FakeHostUnderTest() {
    host_.load_file(testing::fixture("conformance_probe").string());
    host_.declare_account("acct1", {{"poll1", "vxpolls"}, {"survey1", "surveys"}});
    probe_.emplace(host_.instantiate("conformance_probe"));
  }
  ProbeRun run(const bj::array& ops) override {
    const std::size_t published_before = host_.published().size();
    const std::size_t emitted_before = host_.emitted().size();
    auto step = probe_->run(kEvent, bj::serialize(bj::object{{"ops", ops}}));
    EXPECT_TRUE(step.continued()) << step.error;
    ProbeRun run = from_output(*step.output);
    for (std::size_t i = published_before; i < host_.published().size(); ++i)
      run.published_topics.push_back(host_.published()[i].topic);
    for (std::size_t i = emitted_before; i < host_.emitted().size(); ++i)
      run.emitted.push_back(host_.emitted()[i]);
    return run;
  }
  std::int64_t metric(const std::string& full_name) override {
    auto it = host_.metrics().find(full_name);
    return it == host_.metrics().end() ? 0 : it->second;
  }

 private:
  vumi::testing::FakeHost host_;
  std::optional<vumi::testing::FakeHandler> probe_;
};

using HostFactory = std::unique_ptr<HostUnderTest> (*)();

class HostConformance : public ::testing::TestWithParam<HostFactory> {
 protected:
  std::unique_ptr<HostUnderTest> host = GetParam()();
};

bj::array ops(std::initializer_list<std::vector<std::string>> list) {
  bj::array out;
  for (const auto& op : list) {
    bj::array a;
    for (const auto& part : op) a.emplace_back(part);
    out.push_back(std::move(a));
  }
  return out;
}

TEST_P(HostConformance, ContactUpsertMergesFieldsAndExtra) {
  auto run =
      host->run(ops({{"contact_upsert", R"({"msisdn":"+27820000001","name":"Ann","extra":{"a":1,"b":1}})"},
                     {"contact_upsert", R"({"msisdn":"+27820000001","extra":{"b":null,"c":2}})"}}));
  ASSERT_EQ(run.statuses, (std::vector<std::string>{"ok", "ok"}));
  EXPECT_TRUE(run.values[0].ends_with(" created"));
  ASSERT_TRUE(run.values[1].ends_with(" updated"));
  const bj::value merged = bj::parse(run.values[1].substr(0, run.values[1].size() - 8));
  EXPECT_EQ(merged.at("name"), "Ann");                           // absent fields are kept
  EXPECT_EQ(merged.at("extra"), bj::parse(R"({"a":1,"c":2})"));  // JSON Merge Patch
  EXPECT_EQ(merged.at("msisdn"), "+27820000001");
  EXPECT_EQ(merged.at("contact_key").as_string().size(), 32u);
}

TEST_P(HostConformance, StatusCodes) {
  auto run = host->run(ops({{"contact_get", "no-such-key"},
                            {"contact_find", "+27829999999"},
                            {"contact_upsert", R"({"msisdn":"+27820000001","nickname":"x"})"},
                            {"contact_upsert", R"({"name":"no msisdn"})"},
                            {"contact_upsert", R"({"msisdn":7})"},
                            {"contact_upsert", "not json"},
                            {"set_output", "[1]"},
                            {"inbox_put", "[1]"},
                            {"inbox_put", R"({"content":"kept"})"}}));
  EXPECT_EQ(run.statuses,
            (std::vector<std::string>{"not_found", "not_found", "invalid_argument", "invalid_argument",
                                      "invalid_argument", "invalid_argument", "invalid_argument",
                                      "invalid_argument", "ok"}));
}

TEST_P(HostConformance, TopicRules) {
  auto run = host->run(ops({{"publish", "outbound.sms_transport", R"({"content":"hi"})"},
                            {"publish", "conversation.vxpolls.poll1", R"({"content":"hi"})"},
                            {"publish", "event.acct1.vxpolls.poll_complete", "{}"},
                            {"publish", "event.acct2.vxpolls.poll_complete", "{}"},
                            {"publish", "conversation.vxpolls.not_declared", "{}"},
                            {"publish", "conversation.surveys.poll1", "{}"},
                            {"publish", "outbound.bad.topic", "{}"},
                            {"publish", "outbound.", "{}"},
                            {"publish", "conversation.only_type", "{}"},
                            {"publish", "command.worker", "{}"},
                            {"publish", "outbound.sms", "[1]"}}));
  EXPECT_EQ(run.statuses,
            (std::vector<std::string>{"ok", "ok", "ok", "invalid_argument", "invalid_argument",
                                      "invalid_argument", "invalid_argument", "invalid_argument",
                                      "invalid_argument", "ok", "invalid_argument"}));
  EXPECT_EQ(run.published_topics,
            (std::vector<std::string>{"outbound.sms_transport", "conversation.vxpolls.poll1",
                                      "event.acct1.vxpolls.poll_complete", "command.worker"}));
}

TEST_P(HostConformance, EmitCompletesTheEventFromItsParent) {
  auto run = host->run(ops({{"emit", R"({"event_type":"thanked","event_data":{"n":1}})"},
                            {"emit", R"({"event_type":"bad type","event_data":{}})"},
                            {"emit", R"({"event_type":"no_data"})"},
                            {"emit", R"({"event_type":"x","event_data":{},"account_key":"acct2"})"}}));
  EXPECT_EQ(run.statuses, (std::vector<std::string>{"ok", "invalid_argument", "ok", "invalid_argument"}));
  ASSERT_EQ(run.emitted.size(), 2u);
  const bj::object& e = run.emitted[0];
  EXPECT_EQ(e.at("event_type"), "thanked");
  EXPECT_EQ(e.at("account_key"), "acct1");
  EXPECT_EQ(e.at("conversation_type"), "vxpolls");
  EXPECT_EQ(e.at("conversation_key"), "poll1");
  EXPECT_EQ(e.at("event_data"), bj::parse(R"({"n":1})"));
  EXPECT_EQ(e.at("depth"), 1);
  EXPECT_EQ(e.at("causation_id"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e.at("event_id").as_string().size(), 32u);
  EXPECT_TRUE(e.at("timestamp").is_string());
  EXPECT_EQ(e.size(), 9u);  // account, conversation key/type, type, id, timestamp, data, causation, depth
  EXPECT_EQ(run.emitted[1].at("event_data"), bj::object());  // event_data defaults to {}
  for (const bj::object& emitted : run.emitted)
    EXPECT_EQ(emitted.at("account_key"), "acct1");  // never another's
}

TEST_P(HostConformance, EmitToAnotherConversationTakesItsDeclaredType) {
  auto run = host->run(ops({{"emit", R"({"event_type":"moved","conversation_key":"survey1"})"}}));
  ASSERT_EQ(run.statuses, (std::vector<std::string>{"ok"}));
  ASSERT_EQ(run.emitted.size(), 1u);
  EXPECT_EQ(run.emitted[0].at("conversation_key"), "survey1");
  EXPECT_EQ(run.emitted[0].at("conversation_type"), "surveys");
}

TEST_P(HostConformance, EmittedEventsAreHeldToTheDecodeLimits) {
  const std::string long_string(64 * 1024 + 1, 'x');
  std::string deep = "1";
  for (int i = 0; i < 70; ++i) deep = "[" + deep + "]";
  auto run = host->run(
      ops({{"emit", R"({"event_type":"big","event_data":{"s":")" + long_string + R"("}})"},
           {"emit", R"({"event_type":"deep","event_data":{"d":)" + deep + "}}"},
           {"emit", R"({"event_type":"fits","event_data":{"s":")" + long_string.substr(1) + R"("}})"}}));
  EXPECT_EQ(run.statuses, (std::vector<std::string>{"invalid_argument", "invalid_argument", "ok"}));
}

TEST_P(HostConformance, MetricNamesAreScopedToTheHandlerType) {
  host->run(ops({{"metric", "hits"}, {"metric", "hits"}}));
  EXPECT_EQ(host->metric("conformance_probe.hits"), 2);
  EXPECT_EQ(host->metric("hits"), 0);
}

// The fake host is not tied to one plugin per test binary: load_file gives each its own image.
TEST(FakeHostPlugins, SeveralPluginsLoadSideBySideInOneHost) {
  vumi::testing::FakeHost host;
  host.load_file(testing::example_plugin().string());
  host.load_file(testing::fixture("conformance_probe").string());
  host.load_file(testing::fixture("frozen_v1_0").string());  // a 1.0 plugin, too
  const std::string event = vumi::testing::make_event("acct1", "vxpolls", "poll1", "poll_complete");
  EXPECT_TRUE(host.instantiate("noop").run(event).continued());
  EXPECT_TRUE(host.instantiate("frozen_v1_0").run(event, "{}").continued());
  auto probe = host.instantiate("conformance_probe").run(event, R"({"ops":[["metric","hits"]]})");
  EXPECT_EQ(probe.output->at("statuses"), bj::parse(R"(["ok"])"));
  // Refused with the daemon's words, prefixed by the file.
  try {
    host.load_file(testing::fixture("abi_2_entry").string());
    FAIL() << "abi_2_entry should be refused";
  } catch (const vumi::testing::FakeHostError& e) {
    EXPECT_EQ(std::string(e.what()),
              testing::fixture("abi_2_entry").string() +
                  ": plugin built for ABI 2 (vumi_plugin_entry_v2); this host supports 1.x");
  }
}

INSTANTIATE_TEST_SUITE_P(Hosts, HostConformance,
                         ::testing::Values(
                             +[]() -> std::unique_ptr<HostUnderTest> { return std::make_unique<RealHost>(); },
                             +[]() -> std::unique_ptr<HostUnderTest> {
                               return std::make_unique<FakeHostUnderTest>();
                             }),
                         [](const ::testing::TestParamInfo<HostFactory>& param) {
                           return std::string(param.index == 0 ? "DaemonHost" : "FakeHost");
                         });

}  // namespace
}  // namespace vumi::plugin
