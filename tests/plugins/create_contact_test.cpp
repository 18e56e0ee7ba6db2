// create_contact through the SDK's fake host.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <vumi/testing.hpp>

#include "plugin_test_support.hpp"

namespace {

namespace json = boost::json;
using vumi::testing::make_event;

std::string poll_event(std::string_view account = "acct1") {
  return make_event(account, "vxpolls", "poll1", "poll_complete",
                    R"({"from_addr":"+27820000001","answers":{"name":"Ann"}})");
}

std::string fields(std::string_view fields_json) {
  return R"({"fields":)" + std::string(fields_json) + "}";
}

class CreateContactTest : public vumi::plugin_tests::PluginTest {
 protected:
  CreateContactTest() : PluginTest("create_contact") {}
};

TEST_F(CreateContactTest, ReadmeTablesMatchTheDeclaredSchema) {
  expect_readme_matches_declared_schema();
}

TEST_F(CreateContactTest, CreatesAContactAndOutputsIt) {
  auto handler = make();
  auto run = handler.run(poll_event(), fields(R"({"msisdn":"  +27820000001 ","name":"Ann","surname":"Smith",
                                                   "extra":{"age":"30"}})"));
  ASSERT_TRUE(run.continued()) << run.error;
  ASSERT_EQ(host.contacts("acct1").size(), 1u);
  const json::object stored = host.contacts("acct1")[0];
  EXPECT_EQ(stored.at("msisdn"), "+27820000001");  // trimmed
  EXPECT_EQ(stored.at("name"), "Ann");
  EXPECT_EQ(stored.at("surname"), "Smith");
  EXPECT_EQ(stored.at("extra"), (json::object{{"age", "30"}}));

  ASSERT_TRUE(run.output);
  const json::object& out = *run.output;
  EXPECT_EQ(out.at("contact_key"), stored.at("contact_key"));
  EXPECT_EQ(out.at("msisdn"), "+27820000001");
  EXPECT_EQ(out.at("name"), "Ann");
  EXPECT_EQ(out.at("surname"), "Smith");
  EXPECT_EQ(out.at("extra"), (json::object{{"age", "30"}}));
  EXPECT_EQ(out.at("status"), "created");
  EXPECT_EQ(out.at("created"), true);
  EXPECT_EQ(host.metric("contacts_created"), 1);
}

TEST_F(CreateContactTest, MsisdnOnlyMakesAContactWithEmptyNames) {
  auto run = make().run(poll_event(), fields(R"({"msisdn":"27820000001","name":null})"));
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("name"), "");
  EXPECT_EQ(run.output->at("surname"), "");
  EXPECT_EQ(run.output->at("extra"), json::object{});
}

TEST_F(CreateContactTest, UpdateIsTheDefaultAndMergesGivenFields) {
  const json::object seeded = host.seed_contact(
      "acct1", R"({"msisdn":"+27820000001","name":"Old","surname":"Smith","extra":{"a":"1","b":"2"}})");
  auto run =
      make().run(poll_event(), fields(R"({"msisdn":"+27820000001","name":"Ann","extra":{"b":"3","c":"4"}})"));
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("status"), "updated");
  EXPECT_EQ(run.output->at("created"), false);
  EXPECT_EQ(run.output->at("contact_key"), seeded.at("contact_key"));
  ASSERT_EQ(host.contacts("acct1").size(), 1u);
  const json::object stored = host.contacts("acct1")[0];
  EXPECT_EQ(stored.at("name"), "Ann");
  EXPECT_EQ(stored.at("surname"), "Smith");  // not given: kept
  EXPECT_EQ(stored.at("extra"), (json::object{{"a", "1"}, {"b", "3"}, {"c", "4"}}));
  EXPECT_EQ(host.metric("contacts_updated"), 1);
}

TEST_F(CreateContactTest, KeepLeavesTheExistingContactAlone) {
  host.seed_contact("acct1", R"({"msisdn":"+27820000001","name":"Old"})");
  auto run = make(R"({"on_existing":"keep"})")
                 .run(poll_event(), fields(R"({"msisdn":"+27820000001","name":"New"})"));
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("status"), "kept");
  EXPECT_EQ(run.output->at("name"), "Old");
  EXPECT_EQ(host.contacts("acct1")[0].at("name"), "Old");
  EXPECT_EQ(host.metric("contacts_kept"), 1);
  // A new msisdn is still created under "keep".
  auto fresh = make(R"({"on_existing":"keep"})").run(poll_event(), fields(R"({"msisdn":"+27820000002"})"));
  EXPECT_EQ(fresh.output->at("status"), "created");
}

TEST_F(CreateContactTest, FailPolicyRefusesAnExistingMsisdn) {
  const json::object seeded = host.seed_contact("acct1", R"({"msisdn":"+27820000001","name":"Old"})");
  auto run = make(R"({"on_existing":"fail"})")
                 .run(poll_event(), fields(R"({"msisdn":"+27820000001","name":"New"})"));
  ASSERT_TRUE(run.failed());
  EXPECT_EQ(run.error, "a contact with msisdn +27820000001 already exists (contact_key " +
                           std::string(seeded.at("contact_key").as_string()) +
                           ") and on_existing is \"fail\"");
  EXPECT_EQ(host.contacts("acct1")[0].at("name"), "Old");
  EXPECT_TRUE(make(R"({"on_existing":"fail"})")
                  .run(poll_event(), fields(R"({"msisdn":"+27820000003"})"))
                  .continued());
}

TEST_F(CreateContactTest, ContactsAreScopedToTheEventsAccount) {
  host.seed_contact("acct2", R"({"msisdn":"+27820000001","name":"Other"})");
  auto run =
      make(R"({"on_existing":"fail"})").run(poll_event("acct1"), fields(R"({"msisdn":"+27820000001"})"));
  ASSERT_TRUE(run.continued()) << run.error;
  EXPECT_EQ(run.output->at("status"), "created");
  EXPECT_EQ(host.contacts("acct2")[0].at("name"), "Other");
}

TEST_F(CreateContactTest, RejectsBadMsisdnsWithoutWriting) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  auto handler = make();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("12a45")",
       R"(config.fields.msisdn: "12a45" is not a valid msisdn: may contain only digits with an optional leading '+')"},
      {R"("+27 82 000")",
       R"(config.fields.msisdn: "+27 82 000" is not a valid msisdn: may contain only digits with an optional leading '+')"},
      {R"("1234")", R"(config.fields.msisdn: "1234" is not a valid msisdn: must have 5 to 20 digits, has 4)"},
      {R"("+123456789012345678901")",
       R"(config.fields.msisdn: "+123456789012345678901" is not a valid msisdn: must have 5 to 20 digits, has 21)"},
      {R"("   ")", R"(config.fields.msisdn: "   " is not a valid msisdn: must have 5 to 20 digits, has 0)"},
      {R"("++2782000")",
       R"(config.fields.msisdn: "++2782000" is not a valid msisdn: may contain only digits with an optional leading '+')"},
      {"27820000001", "config.fields.msisdn: must be a string, got 27820000001"},
      {"null", "config.fields.msisdn: must be a string, got null"},
  };
  for (const auto& [msisdn, message] : cases) {
    auto run = handler.run(poll_event(), fields(R"({"name":"Ann","msisdn":)" + msisdn + "}"));
    EXPECT_TRUE(run.failed()) << msisdn;
    EXPECT_EQ(run.error, message);
  }
  EXPECT_TRUE(host.contacts("acct1").empty());
}

TEST_F(CreateContactTest, RejectsBadStepConfigsWithoutWriting) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  auto handler = make();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "config.fields: must be an object with at least \"msisdn\""},
      {R"({"fields":"+27820000001"})", "config.fields: must be an object with at least \"msisdn\""},
      {fields(R"({"name":"Ann"})"), "config.fields.msisdn: is required"},
      {fields(R"({"msisdn":"+27820000001","name":7})"),
       "config.fields.name: must be a string or null, got 7"},
      {fields(R"({"msisdn":"+27820000001","surname":["x"]})"),
       R"(config.fields.surname: must be a string or null, got ["x"])"},
      {fields(R"({"msisdn":"+27820000001","extra":"x"})"),
       R"(config.fields.extra: must be an object (name -> value), got "x")"},
      {fields(R"({"msisdn":"+27820000001","email":"a@b"})"),
       "config.fields.email: unknown field (known: msisdn, name, surname, extra)"},
  };
  for (const auto& [config, message] : cases) {
    auto run = handler.run(poll_event(), config);
    EXPECT_TRUE(run.failed()) << config;
    EXPECT_EQ(run.error, message);
  }
  EXPECT_TRUE(host.contacts("acct1").empty());
}

TEST_F(CreateContactTest, RefusesAnUnknownPolicy) {
  host.check_configs(false);  // the handler's own defences, behind the host's schema check
  auto created = host.try_instantiate("create_contact", R"({"on_existing":"merge"})");
  EXPECT_FALSE(created.handler);
  EXPECT_EQ(created.error, R"(options.on_existing: must be "update", "keep" or "fail", got "merge")");
}

TEST_F(CreateContactTest, AStoreFailureFailsTheStep) {
  host.fail_service("contact_upsert", VUMI_ERR_INTERNAL);
  auto run = make().run(poll_event(), fields(R"({"msisdn":"+27820000001"})"));
  EXPECT_TRUE(run.failed());
  EXPECT_EQ(run.error, "exception: contact_upsert failed: internal");
  EXPECT_TRUE(host.contacts("acct1").empty());
}

}  // namespace
