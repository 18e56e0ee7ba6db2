// The schema subset plugins declare, and the validator run on operator config against it.
#include "plugin/schema.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace {

namespace bj = boost::json;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using vumi::plugin::SchemaOptions;

const char* kSmsOptions = R"({
  "type": "object",
  "properties": {
    "transport_name": {"type": "string", "description": "where to send"},
    "transport_type": {"type": "string", "enum": ["sms", "ussd"], "default": "sms"},
    "from_addr": {"type": "string", "minLength": 1, "maxLength": 5}
  },
  "required": ["transport_name"]
})";

std::vector<std::pair<std::string, std::string>> check(const char* value, const char* schema,
                                                       bool templates = false) {
  std::vector<std::pair<std::string, std::string>> errors;
  SchemaOptions options;
  options.allow_templates = templates;
  vumi::plugin::validate_against_schema(bj::parse(value), bj::parse(schema), "handlers.sms.options", options,
                                        errors);
  return errors;
}

TEST(SchemaValidation, AcceptsAValidValue) {
  EXPECT_THAT(check(R"({"transport_name": "t", "transport_type": "ussd"})", kSmsOptions), IsEmpty());
}

TEST(SchemaValidation, WrongTypeNamesPathAndBothTypes) {
  EXPECT_THAT(check(R"({"transport_name": 5})", kSmsOptions),
              ElementsAre(Pair("handlers.sms.options.transport_name", "expected string, got integer")));
}

TEST(SchemaValidation, WholeValueOfWrongType) {
  EXPECT_THAT(check(R"([1, 2])", kSmsOptions),
              ElementsAre(Pair("handlers.sms.options", "expected object, got array")));
}

TEST(SchemaValidation, MissingRequiredKey) {
  EXPECT_THAT(check(R"({})", kSmsOptions),
              ElementsAre(Pair("handlers.sms.options", "missing required key \"transport_name\"")));
}

TEST(SchemaValidation, UnknownKeyListsAllowedAndSuggests) {
  auto errors = check(R"({"transport_name": "t", "tranport_type": "sms"})", kSmsOptions);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, "handlers.sms.options");
  EXPECT_THAT(errors[0].second, HasSubstr("unknown key \"tranport_type\" (allowed: transport_name, "
                                          "transport_type, from_addr)"));
  EXPECT_THAT(errors[0].second, HasSubstr("did you mean \"transport_type\"?"));
}

TEST(SchemaValidation, AdditionalPropertiesDefaultsToFalse) {
  EXPECT_THAT(check(R"({"x": 1})", R"({"type": "object"})"),
              ElementsAre(Pair("handlers.sms.options", "unknown key \"x\" (no keys allowed)")));
  EXPECT_THAT(check(R"({"x": 1})", R"({"type": "object", "additionalProperties": true})"), IsEmpty());
  EXPECT_THAT(
      check(R"({"x": 1, "y": "s"})", R"({"type": "object", "additionalProperties": {"type": "string"}})"),
      ElementsAre(Pair("handlers.sms.options.x", "expected string, got integer")));
}

TEST(SchemaValidation, EnumAndLengths) {
  EXPECT_THAT(check(R"({"transport_name": "t", "transport_type": "email"})", kSmsOptions),
              ElementsAre(Pair("handlers.sms.options.transport_type",
                               "\"email\" is not one of the allowed values (\"sms\", \"ussd\")")));
  EXPECT_THAT(check(R"({"transport_name": "t", "from_addr": ""})", kSmsOptions),
              ElementsAre(Pair("handlers.sms.options.from_addr", "shorter than the minimum length 1")));
  EXPECT_THAT(check(R"({"transport_name": "t", "from_addr": "123456"})", kSmsOptions),
              ElementsAre(Pair("handlers.sms.options.from_addr", "longer than the maximum length 5")));
}

TEST(SchemaValidation, NumbersAndRanges) {
  const char* schema = R"({"type": "integer", "minimum": 1, "maximum": 10})";
  EXPECT_THAT(check("5", schema), IsEmpty());
  EXPECT_THAT(check("0", schema), ElementsAre(Pair("handlers.sms.options", "0 is less than the minimum 1")));
  EXPECT_THAT(check("11", schema),
              ElementsAre(Pair("handlers.sms.options", "11 is more than the maximum 10")));
  EXPECT_THAT(check("2.5", schema),
              ElementsAre(Pair("handlers.sms.options", "expected integer, got number")));
  EXPECT_THAT(check("2", R"({"type": "number"})"), IsEmpty());
  EXPECT_THAT(check("null", R"({"type": ["string", "integer", "boolean"]})"),
              ElementsAre(Pair("handlers.sms.options", "expected string, integer or boolean, got null")));
}

TEST(SchemaValidation, NestedObjectsAndArrays) {
  const char* schema = R"({"type": "object", "properties": {
      "routes": {"type": "array", "items": {"type": "object",
                 "properties": {"to": {"type": "string"}}, "required": ["to"]}}}})";
  EXPECT_THAT(check(R"({"routes": [{"to": "a"}, {"to": 1}, {}]})", schema),
              ElementsAre(Pair("handlers.sms.options.routes[1].to", "expected string, got integer"),
                          Pair("handlers.sms.options.routes[2]", "missing required key \"to\"")));
}

TEST(SchemaValidation, ReportsEveryError) {
  auto errors = check(R"({"transport_type": 1, "from_addr": true, "zzz": 0})", kSmsOptions);
  EXPECT_EQ(errors.size(), 4u);
}

TEST(SchemaValidation, TemplatesAllowedOnlyWhenAsked) {
  const char* schema = R"({"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string",
      "enum": ["a"]}}})";
  EXPECT_THAT(check(R"({"n": "{{/event/x}}"})", schema, true), IsEmpty());
  EXPECT_THAT(check(R"({"s": "x {{/event/x}} y"})", schema, true), IsEmpty());
  EXPECT_THAT(check(R"({"n": "x {{/event/x}}"})", schema, true),
              ElementsAre(Pair("handlers.sms.options.n", "expected integer, got string")));
  EXPECT_THAT(check(R"({"n": "{{/event/x}}"})", schema, false),
              ElementsAre(Pair("handlers.sms.options.n", "expected integer, got string")));
}

TEST(SchemaProblems, AcceptsTheDocumentedSubset) {
  EXPECT_THAT(vumi::plugin::schema_problems(bj::parse(kSmsOptions)), IsEmpty());
  EXPECT_THAT(vumi::plugin::schema_problems(bj::parse(R"({"type": "any"})")), IsEmpty());
}

TEST(SchemaProblems, NamesEachProblemByPath) {
  auto problems = vumi::plugin::schema_problems(bj::parse(R"({
    "type": "object",
    "properties": {"to_addr": {"type": "strin"}, "n": {"type": "integer", "default": "x"}},
    "required": ["to_addr", "missing", 3],
    "minLength": -1,
    "itmes": {}
  })"));
  EXPECT_THAT(problems,
              ::testing::UnorderedElementsAre(
                  HasSubstr("properties.to_addr.type: unknown type \"strin\""),
                  "properties.n.default: expected integer, got string",
                  "required[1]: required key \"missing\" is not in properties and no other key is allowed",
                  "required[2]: expected string, got integer", "minLength: must not be negative",
                  AllOf(HasSubstr("itmes: unknown schema keyword"), HasSubstr("did you mean \"items\"?"))));
}

TEST(SchemaProblems, AdditionalPropertiesIsABoolOrASchema) {
  EXPECT_THAT(vumi::plugin::schema_problems(bj::parse(R"({"additionalProperties": "no"})")),
              ElementsAre("additionalProperties: a schema must be an object, got string"));
  EXPECT_THAT(vumi::plugin::schema_problems(bj::parse(R"({"additionalProperties": {"type": "string"}})")),
              IsEmpty());
}

TEST(SchemaProblems, NonObjectSchema) {
  EXPECT_THAT(vumi::plugin::schema_problems(bj::parse("\"string\"")),
              ElementsAre("a schema must be an object, got string"));
}

}  // namespace
