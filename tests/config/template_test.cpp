// Template: {{/json/pointer}} in step configs, compiled once and rendered per event.
#include "config/template.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace {

namespace bj = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using vumi::config::RenderContext;
using vumi::config::Template;

Template compiled(const char* config_json) {
  Template t;
  std::vector<std::pair<std::string, std::string>> errors;
  EXPECT_TRUE(t.compile(bj::parse(config_json).as_object(), errors));
  EXPECT_THAT(errors, IsEmpty());
  return t;
}

std::vector<std::pair<std::string, std::string>> compile_errors(const char* config_json) {
  Template t;
  std::vector<std::pair<std::string, std::string>> errors;
  EXPECT_FALSE(t.compile(bj::parse(config_json).as_object(), errors));
  return errors;
}

class TemplateRender : public ::testing::Test {
 protected:
  // Renders and returns the result parsed, so comparisons do not depend on spacing.
  bj::value render(const Template& t) {
    std::string out = "stale";
    auto rendered = t.render(context(), out);
    EXPECT_TRUE(rendered) << rendered.error().message;
    return bj::parse(out);
  }
  std::string render_error(const Template& t) {
    std::string out;
    auto rendered = t.render(context(), out);
    EXPECT_FALSE(rendered);
    return rendered ? "" : rendered.error().message;
  }
  RenderContext context() {
    RenderContext ctx;
    ctx.event = &event_;
    ctx.steps = &steps_.as_object();
    ctx.account_key = "acct1";
    return ctx;
  }
  bj::value event_ = bj::parse(R"({"event_type": "poll_complete", "event_data": {
      "from_addr": "+27831234567", "count": 3, "ok": true, "ratio": 0.5, "none": null,
      "answers": {"name": "Thandi \"T\"\nM", "tags": ["a", "b"]},
      "a/b": "slash", "m~n": "tilde", "": "empty key",
      "participant": {"labels": "{\"name\": \"Thandi\", \"favorite color\": \"2\", \"n\": 7}", "age": 3}}})");
  bj::value steps_ = bj::parse(R"({"contact": {"msisdn": "+27831234567", "name": "Thandi"}})");
};

TEST_F(TemplateRender, StaticConfigRendersItsOwnText) {
  Template t = compiled(R"({"auto_reply": "Sorry, {nothing} here }}", "n": [1, {"x": null}]})");
  EXPECT_TRUE(t.is_static());
  EXPECT_THAT(t.uses(), IsEmpty());
  EXPECT_EQ(bj::parse(t.static_text()),
            bj::parse(R"({"auto_reply": "Sorry, {nothing} here }}", "n": [1, {"x": null}]})"));
  EXPECT_EQ(render(t), bj::parse(t.static_text()));
  EXPECT_EQ(Template().static_text(), "{}");
}

TEST_F(TemplateRender, WholeStringTemplateKeepsTheType) {
  Template t = compiled(R"({"n": "{{/event/event_data/count}}", "b": "{{/event/event_data/ok}}",
      "r": "{{/event/event_data/ratio}}", "o": "{{/event/event_data/answers}}", "z": "{{/event/event_data/none}}",
      "s": "{{/event/event_data/from_addr}}", "arr": ["{{/event/event_data/answers/tags/1}}"]})");
  EXPECT_FALSE(t.is_static());
  EXPECT_EQ(render(t), bj::parse(R"({"n": 3, "b": true, "r": 0.5,
      "o": {"name": "Thandi \"T\"\nM", "tags": ["a", "b"]}, "z": null, "s": "+27831234567", "arr": ["b"]})"));
}

TEST_F(TemplateRender, TemplatesInsideAStringInterpolateScalars) {
  Template t = compiled(
      R"({"content": "Thanks {{/steps/contact/name}} ({{/event/event_data/count}}, {{/event/event_data/ok}})!",
          "quoted": "<{{/event/event_data/answers/name}}>", "key": "{{/account/key}}:{{/event/event_type}}"})");
  EXPECT_EQ(render(t), bj::parse(R"({"content": "Thanks Thandi (3, true)!", "quoted": "<Thandi \"T\"\nM>",
      "key": "acct1:poll_complete"})"));
}

TEST_F(TemplateRender, PointerEscapesFollowRfc6901) {
  Template t = compiled(R"({"a": "{{/event/event_data/a~1b}}", "b": "{{/event/event_data/m~0n}}",
      "c": "{{/event/event_data/}}"})");
  EXPECT_EQ(render(t), bj::parse(R"({"a": "slash", "b": "tilde", "c": "empty key"})"));
}

TEST_F(TemplateRender, WholeStepsAndAccountRoots) {
  Template t = compiled(R"({"s": "{{/steps}}", "c": "{{/steps/contact}}", "a": "{{/account}}"})");
  EXPECT_EQ(render(t), bj::parse(R"({"s": {"contact": {"msisdn": "+27831234567", "name": "Thandi"}},
      "c": {"msisdn": "+27831234567", "name": "Thandi"}, "a": {"key": "acct1"}})"));
}

TEST_F(TemplateRender, AccountObjectWhenGiven) {
  Template t = compiled(R"({"types": "{{/account/conversations}}", "k": "{{/account/key}}"})");
  bj::value account = bj::parse(R"({"key": "acct1", "conversations": {"poll1": "vxpolls"}})");
  RenderContext ctx = context();
  ctx.account = &account;
  std::string out;
  auto rendered = t.render(ctx, out);
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_EQ(bj::parse(out), bj::parse(R"({"types": {"poll1": "vxpolls"}, "k": "acct1"})"));
}

TEST_F(TemplateRender, MissingValuesFailNamingThePointer) {
  EXPECT_EQ(
      render_error(compiled(R"({"fields": {"name": "{{/event/event_data/answers/surname}}"}})")),
      "{{/event/event_data/answers/surname}} at fields.name: nothing at /event/event_data/answers/surname");
  EXPECT_EQ(render_error(compiled(R"({"x": "a {{/event/nope/deeper}} b"})")),
            "{{/event/nope/deeper}} at x: nothing at /event/nope");
  EXPECT_EQ(render_error(compiled(R"({"x": "{{/steps/later/msisdn}}"})")),
            "{{/steps/later/msisdn}} at x: nothing at /steps/later");
  EXPECT_EQ(render_error(compiled(R"({"x": "{{/event/event_data/answers/tags/2}}"})")),
            "{{/event/event_data/answers/tags/2}} at x: nothing at /event/event_data/answers/tags/2");
  EXPECT_EQ(render_error(compiled(R"({"x": "{{/event/event_data/answers/tags/01}}"})")),
            "{{/event/event_data/answers/tags/01}} at x: nothing at /event/event_data/answers/tags/01");
  EXPECT_EQ(render_error(compiled(R"({"x": "{{/event/event_type/x}}"})")),
            "{{/event/event_type/x}} at x: nothing at /event/event_type/x");
}

TEST_F(TemplateRender, NullsAndContainersCannotBeInterpolated) {
  EXPECT_EQ(render_error(compiled(R"({"x": "a {{/event/event_data/none}}"})")),
            "{{/event/event_data/none}} at x is null, which cannot be put inside a string");
  EXPECT_EQ(render_error(compiled(R"({"x": "a {{/event/event_data/answers}}"})")),
            "{{/event/event_data/answers}} at x is object, which cannot be put inside a string");
}

TEST_F(TemplateRender, NoEventFailsInsteadOfCrashing) {
  Template t = compiled(R"({"x": "{{/event/event_type}}", "y": "{{/steps/c}}"})");
  RenderContext empty;
  std::string out;
  auto rendered = t.render(empty, out);
  ASSERT_FALSE(rendered);
  EXPECT_THAT(rendered.error().message, HasSubstr("nothing at /event"));
}

TEST_F(TemplateRender, CopiesShareTheCompiledForm) {
  Template original = compiled(R"({"x": "{{/event/event_type}}"})");
  Template copy = original;
  EXPECT_EQ(render(copy), bj::parse(R"({"x": "poll_complete"})"));
}

// vxpolls' participant.dump() JSON-encodes labels, polls and sent_messages as strings.
TEST_F(TemplateRender, JsonFormReadsInsideAJsonEncodedString) {
  EXPECT_EQ(render(compiled(R"({"name": "{{json(/event/event_data/participant/labels)/name}}",
                                "color": "{{json(/event/event_data/participant/labels)/favorite color}}",
                                "n": "{{json(/event/event_data/participant/labels)/n}}",
                                "all": "{{json(/event/event_data/participant/labels)}}",
                                "line": "Hi {{json(/event/event_data/participant/labels)/name}}!"})")),
            bj::parse(R"({"name": "Thandi", "color": "2", "n": 7,
                          "all": {"name": "Thandi", "favorite color": "2", "n": 7}, "line": "Hi Thandi!"})"));
  EXPECT_THAT(render_error(compiled(R"({"x": "{{json(/event/event_data/participant/labels)/age}}"})")),
              HasSubstr("nothing at /age inside the JSON of /event/event_data/participant/labels"));
  EXPECT_THAT(render_error(compiled(R"({"x": "{{json(/event/event_data/participant/age)/a}}"})")),
              HasSubstr("/event/event_data/participant/age is integer, not a string holding JSON"));
  EXPECT_THAT(render_error(compiled(R"({"x": "{{json(/event/event_data/from_addr)/a}}"})")),
              HasSubstr("/event/event_data/from_addr is not JSON text"));
}

TEST(TemplateCompile, JsonFormSyntaxErrors) {
  EXPECT_THAT(compile_errors(R"({"x": "{{json(/event/a/b}}"})"),
              ElementsAre(Pair("x", HasSubstr("json( has no closing ')'"))));
  EXPECT_THAT(compile_errors(R"({"x": "{{json(/nowhere/a)/b}}"})"),
              ElementsAre(Pair("x", HasSubstr("unknown root"))));
  EXPECT_THAT(compile_errors(R"({"x": "{{json(/event/a)b}}"})"),
              ElementsAre(Pair("x", HasSubstr("json( has no closing ')'"))));
}

TEST(TemplateCompile, RecordsEveryUseWithWhere) {
  Template t = compiled(R"({"fields": {"msisdn": "{{/event/event_data/from_addr}}"},
      "list": ["x", "{{/steps/c/a}} and {{/account/key}}"]})");
  ASSERT_EQ(t.uses().size(), 3u);
  EXPECT_EQ(t.uses()[0].pointer, "/event/event_data/from_addr");
  EXPECT_EQ(t.uses()[0].where, "fields.msisdn");
  EXPECT_EQ(t.uses()[1].pointer, "/steps/c/a");
  EXPECT_EQ(t.uses()[1].where, "list[1]");
  EXPECT_EQ(t.uses()[2].pointer, "/account/key");
}

TEST(TemplateCompile, SyntaxErrors) {
  EXPECT_THAT(compile_errors(R"({"a": "x {{/event/y"})"),
              ElementsAre(Pair("a", "unclosed \"{{\" at character 3")));
  EXPECT_THAT(compile_errors(R"({"a": "{{}}"})"), ElementsAre(Pair("a", "template {{}}: empty pointer")));
  EXPECT_THAT(compile_errors(R"({"a": {"b": "{{ /event/y}}"}})"),
              ElementsAre(Pair("a.b", "template {{ /event/y}}: pointer must start with '/'")));
  EXPECT_THAT(compile_errors(R"({"a": ["{{/x/y}}"]})"),
              ElementsAre(Pair(
                  "a[0]", "template {{/x/y}}: unknown root \"/x\" (allowed: /event, /steps, /account)")));
  EXPECT_THAT(
      compile_errors(R"({"a": "{{/event/a~}}", "b": "{{/event}} {{/}}"})"),
      ElementsAre(Pair("a", HasSubstr("'~' must be followed by 0 or 1")),
                  Pair("b", "template {{/}}: unknown root \"/\" (allowed: /event, /steps, /account)")));
}

}  // namespace

namespace {

// Compiles config_json through cache; returns the template.
Template through(vumi::config::TemplateCache& cache, const char* config_json,
                 std::vector<std::pair<std::string, std::string>>& errors) {
  Template t;
  t.compile(bj::parse(config_json).as_object(), errors, &cache);
  return t;
}

}  // namespace

TEST(TemplateCache, EqualConfigsShareOneProgramAndItsErrors) {
  vumi::config::TemplateCache cache;
  std::vector<std::pair<std::string, std::string>> first_errors, second_errors;
  Template a =
      through(cache, R"({"to": "{{/event/from_addr}}", "n": [1, 2.5, {"x": null}], "bad": "{{nope}}"})",
              first_errors);
  Template b =
      through(cache, R"({"to": "{{/event/from_addr}}", "n": [1, 2.5, {"x": null}], "bad": "{{nope}}"})",
              second_errors);
  EXPECT_EQ(&a.config(), &b.config());
  ASSERT_THAT(first_errors, ::testing::SizeIs(1));
  EXPECT_EQ(second_errors, first_errors);
}

TEST(TemplateCache, ConfigsThatDifferAsWrittenKeepTheirOwnProgram) {
  vumi::config::TemplateCache cache;
  std::vector<std::pair<std::string, std::string>> errors;
  Template base = through(cache, R"({"a": 1, "b": [0.0, "x"]})", errors);
  // Equal for Boost.JSON's == (member order) or close to it, but written differently.
  for (const char* other :
       {R"({"b": [0.0, "x"], "a": 1})", R"({"a": 1, "b": [-0.0, "x"]})", R"({"a": 1, "b": ["x", 0.0]})",
        R"({"a": 1.0, "b": [0.0, "x"]})", R"({"a": 1, "b": [0.0, "x"], "c": null})"}) {
    Template t = through(cache, other, errors);
    EXPECT_NE(&t.config(), &base.config()) << other;
    EXPECT_EQ(t.static_text(), bj::serialize(bj::parse(other))) << other;
  }
  EXPECT_THAT(errors, IsEmpty());
}
