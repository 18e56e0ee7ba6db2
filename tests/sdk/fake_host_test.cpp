// Tests of vumi::testing::FakeHost through a tiny "probe" handler that does what its step config says.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vumi/plugin.hpp>
#include <vumi/testing.hpp>

namespace {

namespace json = boost::json;
using vumi::testing::FakeHost;
using vumi::testing::FakeHostError;
using vumi::testing::make_event;

std::string status_text(vumi_status s) {
  return vumi::sdk::status_name(s);
}

// Each step-config key triggers one host service; the statuses are reported in the output.
struct Probe {
  static constexpr const char* kName = "probe";
  static constexpr const char* kDescription = "Calls the host services its step config names.";
  static constexpr const char* kOptionsSchema =
      R"({"type":"object","properties":{"refuse":{"type":"string"}},"additionalProperties":false})";
  static constexpr const char* kStepSchema = R"({"type":"object","additionalProperties":true})";
  static constexpr const char* kOutput = "the status of each service called";

  explicit Probe(vumi::sdk::Options options) {
    json::object o = json::parse(options.json()).as_object();
    if (auto* r = o.if_contains("refuse")) throw std::invalid_argument(std::string(r->as_string()));
    options.info("probe created");
  }

  vumi::sdk::StepResult handle(vumi::sdk::Call& call) {
    json::object cfg = json::parse(call.config_json()).as_object();
    json::object out;
    const vumi_host_api* api = call.api();
    auto view = [](const std::string& s) { return vumi::sdk::view(s); };
    if (auto* v = cfg.if_contains("log")) call.warn(v->as_string());
    if (auto* v = cfg.if_contains("publish")) {
      std::string topic(v->at("topic").as_string()), body(v->at("body").as_string());
      out["publish"] = status_text(api->publish(call.raw(), view(topic), view(body)));
    }
    if (auto* v = cfg.if_contains("emit")) {
      std::string e = v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
      out["emit"] = status_text(api->emit_event(call.raw(), view(e)));
    }
    if (auto* v = cfg.if_contains("upsert")) {
      std::string c = v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
      vumi_view stored{};
      int created = -1;
      out["upsert"] = status_text(api->contact_upsert(call.raw(), view(c), &stored, &created));
      if (stored.data) out["contact"] = json::parse(vumi::sdk::str(stored));
      out["created"] = created;
    }
    if (auto* v = cfg.if_contains("find")) {
      auto found = call.contact_find_by_msisdn(v->as_string());
      out["found"] = found ? json::parse(*found) : json::value(nullptr);
    }
    if (auto* v = cfg.if_contains("get")) {
      auto found = call.contact_get(v->as_string());
      out["got"] = found ? json::parse(*found) : json::value(nullptr);
    }
    if (auto* v = cfg.if_contains("inbox")) out["inbox_id"] = call.inbox_put(json::serialize(*v));
    if (cfg.contains("metric")) call.metric_add("probed", 2);
    if (cfg.contains("id")) out["id"] = call.new_id();
    if (cfg.contains("event")) out["event"] = json::parse(call.event_json());
    out["account"] = call.account_key();
    out["event_type"] = call.event_type();
    out["depth"] = call.depth();
    if (auto* v = cfg.if_contains("bad_output")) {
      std::string bad(v->as_string());
      out["bad_output"] = status_text(api->set_output(call.raw(), view(bad)));
    }
    call.set_output(json::serialize(out));
    if (auto* v = cfg.if_contains("result")) {
      if (v->as_string() == "stop") return vumi::sdk::StepResult::stop();
      if (v->as_string() == "fail") return vumi::sdk::StepResult::fail("probe told to fail");
      if (v->as_string() == "throw") throw std::runtime_error("probe threw");
    }
    return vumi::sdk::StepResult::next();
  }
};

}  // namespace

VUMI_PLUGIN("probe_plugin", "0.1.0", Probe)

namespace {

std::string event(std::string_view account = "acct1") {
  return make_event(account, "vxpolls", "poll1", "poll_complete", R"({"answers":{"name":"Ann"}})", "evt-42");
}

class FakeHostTest : public ::testing::Test {
 protected:
  void SetUp() override { host.load(&VUMI_PLUGIN_ENTRY_SYMBOL); }
  FakeHost host;
};

TEST_F(FakeHostTest, OffersEveryServiceWithItsOwnStructSize) {
  const vumi_host_api* api = host.api();
  EXPECT_EQ(api->struct_size, sizeof(vumi_host_api));
  EXPECT_EQ(api->abi_major, VUMI_ABI_MAJOR);
  EXPECT_TRUE(VUMI_HOST_HAS(api, log));
  EXPECT_TRUE(VUMI_HOST_HAS(api, set_error));
  EXPECT_TRUE(VUMI_HOST_HAS(api, set_output));
  EXPECT_TRUE(VUMI_HOST_HAS(api, event_json));
  EXPECT_TRUE(VUMI_HOST_HAS(api, emit_event));
  EXPECT_TRUE(VUMI_HOST_HAS(api, publish));
  EXPECT_TRUE(VUMI_HOST_HAS(api, contact_get));
  EXPECT_TRUE(VUMI_HOST_HAS(api, contact_find_by_msisdn));
  EXPECT_TRUE(VUMI_HOST_HAS(api, contact_upsert));
  EXPECT_TRUE(VUMI_HOST_HAS(api, inbox_put));
  EXPECT_TRUE(VUMI_HOST_HAS(api, metric_add));
  EXPECT_TRUE(VUMI_HOST_HAS(api, new_id));
}

TEST_F(FakeHostTest, ExposesHandlerTypesAndParsedSchemas) {
  EXPECT_STREQ(host.handler_type("probe").description, Probe::kDescription);
  EXPECT_TRUE(host.options_schema("probe").at("properties").as_object().contains("refuse"));
  EXPECT_EQ(host.step_schema("probe").at("additionalProperties"), json::value(true));
  EXPECT_THROW(host.handler_type("nope"), FakeHostError);
}

TEST_F(FakeHostTest, InstantiateReportsTheConstructorsMessage) {
  auto created = host.try_instantiate("probe", R"({"refuse":"transport_name is missing"})");
  EXPECT_FALSE(created.handler);
  EXPECT_EQ(created.status, VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(created.error, "transport_name is missing");
  try {
    host.instantiate("probe", R"({"refuse":"no way"})");
    FAIL() << "instantiate should throw";
  } catch (const FakeHostError& e) {
    EXPECT_NE(std::string(e.what()).find("no way"), std::string::npos) << e.what();
  }
  EXPECT_THROW(host.instantiate("probe", "[1]"), FakeHostError);
  EXPECT_FALSE(host.logged("probe created"));
  host.instantiate("probe");
  EXPECT_TRUE(host.logged("probe created"));  // the log service works during create()
}

TEST_F(FakeHostTest, OptionsAreCheckedAgainstTheSchemaAsTheDaemonChecksThem) {
  auto created = host.try_instantiate("probe", R"({"refuse":1})");
  EXPECT_FALSE(created.handler);
  EXPECT_EQ(created.status, VUMI_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(created.error, "options.refuse: expected string, got integer");
  auto unknown = host.try_instantiate("probe", R"({"unknown":true})");
  EXPECT_EQ(unknown.error, "options: unknown key \"unknown\" (allowed: refuse)");
  // Off: the handler's own defences see the value.
  host.check_configs(false);
  auto unchecked = host.try_instantiate("probe", R"({"refuse":1})");
  EXPECT_FALSE(unchecked.handler);
  EXPECT_NE(unchecked.error.find("not a string"), std::string::npos) << unchecked.error;
}

TEST_F(FakeHostTest, RunPassesEnvelopeFieldsAndCollectsOutput) {
  auto probe = host.instantiate("probe");
  auto run = probe.run(event(), R"({"event":true,"id":true})");
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_TRUE(run.output);
  EXPECT_EQ(run.output->at("account"), "acct1");
  EXPECT_EQ(run.output->at("event_type"), "poll_complete");
  EXPECT_EQ(run.output->at("depth"), 0);
  EXPECT_EQ(run.output->at("event").at("event_id"), "evt-42");
  EXPECT_EQ(run.output->at("event").at("event_data").at("answers").at("name"), "Ann");
  const std::string id(run.output->at("id").as_string());
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(host.new_id(), id);
}

TEST_F(FakeHostTest, StopFailAndExceptionsAreReported) {
  auto probe = host.instantiate("probe");
  EXPECT_TRUE(probe.run(event(), R"({"result":"stop"})").stopped());
  auto failed = probe.run(event(), R"({"result":"fail"})");
  EXPECT_TRUE(failed.failed());
  EXPECT_EQ(failed.error, "probe told to fail");
  auto thrown = probe.run(event(), R"({"result":"throw"})");
  EXPECT_TRUE(thrown.failed());
  EXPECT_EQ(thrown.error, "exception: probe threw");
}

TEST_F(FakeHostTest, RecordsLogsPublishedMessagesAndMetrics) {
  auto probe = host.instantiate("probe");
  auto run = probe.run(event(), R"({"log":"hello there","metric":true,
      "publish":{"topic":"outbound.sms_transport","body":"{\"content\":\"hi\"}"}})");
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("publish"), "ok");
  ASSERT_EQ(host.published().size(), 1u);
  EXPECT_EQ(host.published()[0].topic, "outbound.sms_transport");
  EXPECT_EQ(host.published()[0].account_key, "acct1");
  EXPECT_EQ(host.published()[0].body.at("content"), "hi");
  ASSERT_FALSE(host.logs().empty());
  EXPECT_EQ(host.logs().back().level, VUMI_LOG_WARN);
  EXPECT_EQ(host.logs().back().handler_type, "probe");
  EXPECT_EQ(host.logs().back().text, "hello there");
  EXPECT_EQ(host.metric("probed"), 2);
  host.clear_effects();
  EXPECT_TRUE(host.published().empty());
  EXPECT_TRUE(host.logs().empty());
  EXPECT_EQ(host.metric("probed"), 0);
}

TEST_F(FakeHostTest, PublishRefusesBadTopicsAndBodies) {
  auto probe = host.instantiate("probe");
  for (const char* topic :
       {"outbound.a.b", "nowhere.x", "outbound.", "conversation.vxpolls", "outbound.a b"}) {
    json::object cfg{{"publish", {{"topic", topic}, {"body", "{}"}}}};
    auto run = probe.run(event(), json::serialize(cfg));
    EXPECT_EQ(run.output->at("publish"), "invalid_argument") << topic;
  }
  auto run = probe.run(event(), R"({"publish":{"topic":"outbound.sms","body":"[1]"}})");
  EXPECT_EQ(run.output->at("publish"), "invalid_argument");
  // Conversations: only those the account declares, as in the daemon.
  run = probe.run(event(), R"({"publish":{"topic":"conversation.vxpolls.poll1","body":"{}"}})");
  EXPECT_EQ(run.output->at("publish"), "invalid_argument");
  host.declare_account("acct1", {{"poll1", "vxpolls"}});
  run = probe.run(event(), R"({"publish":{"topic":"conversation.vxpolls.poll1","body":"{}"}})");
  EXPECT_EQ(run.output->at("publish"), "ok");
  EXPECT_EQ(host.published().size(), 1u);
}

TEST_F(FakeHostTest, EmittedEventsAreCompletedForTheCurrentAccount) {
  auto probe = host.instantiate("probe");
  auto run = probe.run(event(), R"({"emit":{"event_type":"unrouted_message","event_data":{"x":1}}})");
  EXPECT_EQ(run.output->at("emit"), "ok");
  ASSERT_EQ(host.emitted().size(), 1u);
  const json::object& e = host.emitted()[0];
  EXPECT_EQ(e.at("account_key"), "acct1");
  EXPECT_EQ(e.at("conversation_type"), "vxpolls");
  EXPECT_EQ(e.at("conversation_key"), "poll1");
  EXPECT_EQ(e.at("event_type"), "unrouted_message");
  EXPECT_EQ(e.at("event_data").at("x"), 1);
  EXPECT_EQ(e.at("causation_id"), "evt-42");
  EXPECT_EQ(e.at("depth"), 1);

  for (const char* bad : {R"({"event_data":{}})", R"({"event_type":"a.b","event_data":{}})",
                          R"({"event_type":"x","event_data":[]})", R"("not an object")",
                          R"({"event_type":"x","account_key":"someone_else"})"}) {  // as the daemon: refused
    json::object cfg{{"emit", bad}};
    EXPECT_EQ(probe.run(event(), json::serialize(cfg)).output->at("emit"), "invalid_argument") << bad;
  }
  EXPECT_EQ(host.emitted().size(), 1u);
}

TEST_F(FakeHostTest, ContactsUpsertByMsisdnPerAccount) {
  auto probe = host.instantiate("probe");
  auto first =
      probe.run(event(), R"({"upsert":{"msisdn":"+27820000001","name":"Ann","extra":{"age":"30"}}})");
  ASSERT_EQ(first.output->at("upsert"), "ok");
  EXPECT_EQ(first.output->at("created"), 1);
  const json::object contact = first.output->at("contact").as_object();
  const std::string key(contact.at("contact_key").as_string());
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(contact.at("surname"), "");

  auto second = probe.run(event(), R"({"upsert":{"msisdn":"+27820000001","surname":"Smith"}})");
  EXPECT_EQ(second.output->at("created"), 0);
  EXPECT_EQ(second.output->at("contact").at("contact_key").as_string(), key);
  EXPECT_EQ(second.output->at("contact").at("name"), "Ann");  // absent fields are kept
  EXPECT_EQ(second.output->at("contact").at("surname"), "Smith");
  EXPECT_EQ(second.output->at("contact").at("extra").at("age"), "30");

  EXPECT_EQ(host.contacts("acct1").size(), 1u);
  EXPECT_TRUE(host.contacts("acct2").empty());
  ASSERT_TRUE(host.contact_by_msisdn("acct1", "+27820000001"));

  auto found = probe.run(event(), R"({"find":"+27820000001","get":")" + key + R"("})");
  EXPECT_EQ(found.output->at("found").at("contact_key").as_string(), key);
  EXPECT_EQ(found.output->at("got").at("msisdn"), "+27820000001");
  auto other_account = probe.run(event("acct2"), R"({"find":"+27820000001","get":")" + key + R"("})");
  EXPECT_TRUE(other_account.output->at("found").is_null());
  EXPECT_TRUE(other_account.output->at("got").is_null());
}

TEST_F(FakeHostTest, ContactUpsertRefusesMalformedContacts) {
  auto probe = host.instantiate("probe");
  for (const char* bad : {R"({"name":"no msisdn"})", R"({"msisdn":""})", R"({"msisdn":27})",
                          R"({"msisdn":"123","extra":"x"})", R"({"msisdn":"123","colour":"red"})", "[]"}) {
    json::object cfg{{"upsert", bad}};
    EXPECT_EQ(probe.run(event(), json::serialize(cfg)).output->at("upsert"), "invalid_argument") << bad;
  }
  EXPECT_TRUE(host.contacts("acct1").empty());
}

TEST_F(FakeHostTest, InboxKeepsMessagesPerAccount) {
  auto probe = host.instantiate("probe");
  auto a = probe.run(event(), R"({"inbox":{"content":"one"}})");
  auto b = probe.run(event("acct2"), R"({"inbox":{"content":"two"}})");
  ASSERT_EQ(host.inbox("acct1").size(), 1u);
  EXPECT_EQ(host.inbox("acct1")[0].id, a.output->at("inbox_id").as_int64());
  EXPECT_EQ(host.inbox("acct1")[0].message.at("content"), "one");
  EXPECT_NE(a.output->at("inbox_id"), b.output->at("inbox_id"));
  EXPECT_TRUE(host.inbox("acct3").empty());
}

TEST_F(FakeHostTest, SetOutputWantsAnObject) {
  auto probe = host.instantiate("probe");
  auto run = probe.run(event(), R"({"bad_output":"[1,2]"})");
  EXPECT_EQ(run.output->at("bad_output"), "invalid_argument");
}

TEST_F(FakeHostTest, InjectedFailuresAndRemovedServices) {
  auto probe = host.instantiate("probe");
  host.fail_service("inbox_put", VUMI_ERR_INTERNAL);
  auto failed = probe.run(event(), R"({"inbox":{}})");
  EXPECT_TRUE(failed.failed());
  EXPECT_NE(failed.error.find("inbox_put failed: internal"), std::string::npos) << failed.error;
  host.fail_service("inbox_put", VUMI_OK);
  EXPECT_TRUE(probe.run(event(), R"({"inbox":{}})").continued());

  host.remove_service("new_id");
  EXPECT_FALSE(VUMI_HOST_HAS(host.api(), new_id));
  auto no_id = probe.run(event(), R"({"id":true})");
  EXPECT_TRUE(no_id.failed());
  EXPECT_NE(no_id.error.find("new_id is not offered"), std::string::npos) << no_id.error;
  EXPECT_THROW(host.remove_service("log"), FakeHostError);
}

TEST_F(FakeHostTest, RunRejectsUnusableEventsAndConfigs) {
  auto probe = host.instantiate("probe");
  EXPECT_THROW(probe.run("not json"), FakeHostError);
  EXPECT_THROW(probe.run(R"({"account_key":"a","conversation_type":"t","conversation_key":"k"})"),
               FakeHostError);
  EXPECT_THROW(probe.run(event(), "[]"), FakeHostError);
  // vumi-go's older "content" name for event_data is accepted, and a missing event_id assigned.
  auto run = probe.run(
      R"({"account_key":"a","conversation_type":"t","conversation_key":"k","event_type":"e","content":{}})",
      R"({"event":true})");
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("event").at("event_id").as_string().size(), 32u);
}

TEST(FakeHostHelpers, MakeInboundEventUsesTheTag) {
  vumi::testing::UserMessageSpec spec;
  spec.tag_pool = "shortcode";
  spec.tag = "999";
  json::object e =
      json::parse(vumi::testing::make_inbound_event("acct1", vumi::testing::make_user_message(spec)))
          .as_object();
  EXPECT_EQ(e.at("conversation_type"), "transport");
  EXPECT_EQ(e.at("conversation_key"), "shortcode:999");
  EXPECT_EQ(e.at("event_type"), "inbound_message");
  EXPECT_EQ(e.at("event_data").at("message_version"), "20110921");
  EXPECT_EQ(e.at("event_data").at("from_addr"), "+27820000001");
  spec.tag_pool.clear();
  EXPECT_THROW(vumi::testing::make_inbound_event("acct1", vumi::testing::make_user_message(spec)),
               FakeHostError);
}

// ---- descriptor checks at load() ----

vumi_step_result noop_handle(void*, vumi_call*, const vumi_host_api*, const vumi_step_input*) {
  return VUMI_STEP_CONTINUE;
}

vumi_handler_type make_type(const char* name) {
  vumi_handler_type t{};
  t.struct_size = sizeof(vumi_handler_type);
  t.name = name;
  t.description = "test";
  t.handle = &noop_handle;
  return t;
}

vumi_plugin_info make_info(const vumi_handler_type* const* handlers, std::uint32_t count) {
  vumi_plugin_info p{};
  p.struct_size = sizeof(vumi_plugin_info);
  p.abi_major = VUMI_ABI_MAJOR;
  p.abi_minor = VUMI_ABI_MINOR;
  p.build_tag = VUMI_BUILD_TAG;
  p.name = "crafted";
  p.version = "1";
  p.handler_count = count;
  p.handlers = handlers;
  return p;
}

// The crafted descriptor the next entry call returns.
vumi_plugin_info g_info;
const vumi_plugin_info* crafted_entry(const vumi_host_info*) {
  return &g_info;
}

std::string load_error(FakeHost& host) {
  try {
    host.load(&crafted_entry);
  } catch (const FakeHostError& e) {
    return e.what();
  }
  return "";
}

TEST(FakeHostLoad, RefusesBadDescriptorsWithTheDaemonsReasons) {
  static const vumi_handler_type good = make_type("good");
  static const vumi_handler_type* const one[] = {&good};
  FakeHost host;

  g_info = make_info(one, 1);
  g_info.abi_major = 2;
  g_info.abi_minor = 0;
  EXPECT_EQ(load_error(host), "plugin refused: plugin ABI 2.0, host supports 1.x");
  g_info = make_info(one, 1);
  g_info.abi_minor = VUMI_ABI_MINOR + 1;
  EXPECT_EQ(load_error(host), "plugin refused: plugin ABI 1.2, host supports up to 1.1");
  g_info = make_info(one, 1);
  g_info.struct_size = VUMI_PLUGIN_INFO_V1_1_SIZE - 8;
  EXPECT_EQ(load_error(host), "plugin refused: descriptor is 56 bytes, ABI 1.1 requires at least 64");
  g_info = make_info(one, 1);
  g_info.build_tag = nullptr;
  EXPECT_EQ(load_error(host), "plugin refused: build_tag is missing");
  // The drifts the fake host once had: it accepted all of these, the daemon refuses them.
  g_info = make_info(one, 1);
  g_info.version = "";
  EXPECT_EQ(load_error(host), "plugin refused: plugin version is missing");
  g_info = make_info(one, 0);
  EXPECT_EQ(load_error(host), "plugin refused: declares no handler types");
  static vumi_handler_type bad_threading = make_type("bad_threading");
  bad_threading.threading = 9;
  static const vumi_handler_type* const threading[] = {&bad_threading};
  g_info = make_info(threading, 1);
  EXPECT_EQ(load_error(host), "plugin refused: handler \"bad_threading\": unknown threading model 9");
  static vumi_handler_type bad_schema = make_type("bad_schema");
  bad_schema.step_schema = R"({"type":"object","properties":{"to":{"type":"strng"}}})";
  static const vumi_handler_type* const schema[] = {&bad_schema};
  g_info = make_info(schema, 1);
  EXPECT_EQ(load_error(host).rfind(
                "plugin refused: handler \"bad_schema\": step_schema: properties.to.type: unknown type "
                "\"strng\"",
                0),
            0u)
      << load_error(host);

  static vumi_handler_type no_handle = make_type("no_handle");
  no_handle.handle = nullptr;
  static const vumi_handler_type* const bad[] = {&no_handle};
  g_info = make_info(bad, 1);
  EXPECT_EQ(load_error(host), "plugin refused: handler \"no_handle\": handle() is NULL");

  static const vumi_handler_type* const twice[] = {&good, &good};
  g_info = make_info(twice, 2);
  EXPECT_EQ(load_error(host), "plugin refused: handler type \"good\" is declared twice");

  g_info = make_info(one, 1);
  g_info.init = [](vumi_call* call, const vumi_host_api* api) {
    api->set_error(call, vumi::sdk::view("database missing"));
    return VUMI_ERR_UNAVAILABLE;
  };
  EXPECT_EQ(load_error(host), "plugin refused: init failed: database missing");
  EXPECT_THROW(host.handler_type("good"), FakeHostError);  // nothing of a refused plugin is kept

  g_info = make_info(one, 1);
  EXPECT_EQ(load_error(host), "");
  // A handler type without create() gets a null instance.
  auto h = host.instantiate("good");
  EXPECT_TRUE(h.run(event()).continued());
}

TEST(FakeHostLoad, InitCannotReachAccountServices) {
  static const vumi_handler_type good = make_type("good2");
  static const vumi_handler_type* const one[] = {&good};
  g_info = make_info(one, 1);
  g_info.init = [](vumi_call* call, const vumi_host_api* api) {
    std::int64_t id = 0;
    const vumi_status s = api->inbox_put(call, vumi::sdk::view("{}"), &id);
    api->log(call, VUMI_LOG_INFO, vumi::sdk::view(vumi::sdk::status_name(s)));
    return VUMI_OK;
  };
  FakeHost host;
  EXPECT_EQ(load_error(host), "");
  ASSERT_EQ(host.logs().size(), 1u);
  EXPECT_EQ(host.logs()[0].text, "unavailable");
  EXPECT_EQ(host.logs()[0].handler_type, "");
}

}  // namespace
