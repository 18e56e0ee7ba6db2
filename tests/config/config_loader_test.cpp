// parse_config / load_config_file: structure, types, identifiers, tags, routes, templates and the
// rule that every error is reported, named by its JSON path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/config_source.hpp"
#include "config/config.hpp"
#include "config_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace vumi::config;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using vumi::config::testing::base_config;
using vumi::config::testing::parse_errors;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- the example configs ----

TEST(ConfigExamples, DispatcherJsonIsTheContractExample) {
  LoadResult r = load_config_file(fs::path(VUMI_SOURCE_DIR) / "config/dispatcher.json");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(vumi::config::testing::error_texts(r));
  const Config& c = *r.config;
  EXPECT_EQ(c.ingest_bind, "tcp://127.0.0.1:7710");
  EXPECT_EQ(c.outbound_bind, "tcp://127.0.0.1:7711");
  EXPECT_EQ(c.state.dir, fs::path("var"));
  // "$ORIGIN" is the folder of the running binary, not the working directory.
  EXPECT_THAT(c.plugin_path, ElementsAre(fs::read_symlink("/proc/self/exe").parent_path() / "plugins"));
  ASSERT_THAT(c.handlers, SizeIs(4));
  EXPECT_EQ(c.handlers[1].name, "sms");
  EXPECT_EQ(c.handlers[1].type, "send_sms");
  EXPECT_EQ(c.handlers[1].path, "handlers.sms");
  EXPECT_EQ(c.handlers[1].options.at("transport_name"), "sms_transport");
  ASSERT_THAT(c.accounts, SizeIs(1));
  const AccountSpec& a = c.accounts[0];
  EXPECT_EQ(a.key, "acct1");
  EXPECT_EQ(a.conversations.at("poll1"), "vxpolls");
  EXPECT_THAT(a.tags, ElementsAre("longcode:12345", "longcode:67890"));
  ASSERT_THAT(a.routes, SizeIs(2));
  EXPECT_EQ(route_path(a.key, 0), "accounts.acct1.routes[0]");
  EXPECT_EQ(a.routes[0].on.event_type, "poll_complete");
  EXPECT_EQ(a.routes[0].on.conversation_key, "poll1");
  ASSERT_THAT(a.routes[0].chain, SizeIs(2));
  EXPECT_EQ(a.routes[0].chain[0].as, "contact");
  EXPECT_EQ(step_path(a.key, 0, 1), "accounts.acct1.routes[0].chain[1]");
  EXPECT_FALSE(a.routes[0].chain[1].compiled.is_static());
  EXPECT_EQ(a.routes[1].on.event_type, "inbound_message");
  EXPECT_EQ(a.routes[1].on.conversation_type, "");  // any
  EXPECT_TRUE(a.routes[1].chain[0].compiled.is_static());
  EXPECT_EQ(c.limits.max_emit_depth, 8u);
}

TEST(ConfigExamples, EmbeddedDefaultIsDispatcherJson) {
  EXPECT_EQ(vumi::cli::embedded_config_text(),
            read_file(fs::path(VUMI_SOURCE_DIR) / "config/dispatcher.json"));
  vumi::cli::ConfigArgs args;
  args.plugin_path = {"/somewhere/else"};
  LoadResult r = vumi::cli::load_command_config(args);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->source, "<embedded>");
  EXPECT_THAT(r.config->plugin_path, ElementsAre(fs::path("/somewhere/else")));  // --plugin-path wins
}

TEST(ConfigExamples, EveryExampleParses) {
  for (const auto& entry : fs::directory_iterator(fs::path(VUMI_SOURCE_DIR) / "config")) {
    if (entry.path().extension() != ".json") continue;
    LoadResult r = load_config_file(entry.path());
    EXPECT_TRUE(r.ok()) << entry.path() << ": "
                        << ::testing::PrintToString(vumi::config::testing::error_texts(r));
  }
}

// ---- reading the text ----

TEST(ConfigText, CommentsAndTrailingCommasAllowed) {
  EXPECT_THAT(parse_errors("// a comment\n{ /* block */ \"state_dir\": \"x\", }"), IsEmpty());
}

TEST(ConfigText, EmptyTextIsAnError) {
  EXPECT_THAT(parse_errors(""), ElementsAre(HasSubstr("the config is empty")));
  EXPECT_THAT(parse_errors(" \n\t "), ElementsAre(HasSubstr("the config is empty")));
  EXPECT_FALSE(parse_config("", "x").config.has_value());
}

TEST(ConfigText, BadJsonNamesLineAndColumn) {
  EXPECT_THAT(parse_errors("{\n  \"state_dir\": \"var\",\n  \"handlers\": {,}\n}"),
              ElementsAre("invalid JSON: line 3 col 16: syntax error"));
  EXPECT_THAT(parse_errors("{\"a\": 1} extra"), ElementsAre(HasSubstr("invalid JSON: line 1 col 10")));
  EXPECT_THAT(parse_errors("{\"a\": "), ElementsAre(HasSubstr("invalid JSON: line 1 col")));
}

TEST(ConfigText, ANumberBeyondTheRangeOfADoubleIsInvalidJson) {
  EXPECT_THAT(parse_errors("{\n  \"max_body_bytes\": 1e999\n}"),
              ElementsAre(HasSubstr("invalid JSON: line 2 col ")));
  EXPECT_THAT(parse_errors("{\"x\": 1e999}"),
              ElementsAre(HasSubstr("a number is beyond the range of a double")));
}

// The accounts are read one at a time from the text (config_document.hpp), where a key given
// twice is seen, not collapsed to the last as a document would.
TEST(ConfigText, AnAccountDefinedTwiceIsAnError) {
  EXPECT_THAT(parse_errors(R"({"accounts": {"a": {}, "b": {}, "a": {"tags": ["p:1"]}}})"),
              ElementsAre("accounts.a: account \"a\" is defined twice in \"accounts\""));
  EXPECT_THAT(parse_errors(R"({"accounts": {"a": 5, "a": {}}})"),
              ElementsAre("accounts.a: expected object, got integer",
                          "accounts.a: account \"a\" is defined twice in \"accounts\""));
}

TEST(ConfigText, TopLevelMustBeAnObject) {
  EXPECT_THAT(parse_errors("[1, 2]"), ElementsAre("the config must be a JSON object, got array"));
  EXPECT_THAT(parse_errors("\"x\""), ElementsAre("the config must be a JSON object, got string"));
  EXPECT_THAT(parse_errors("null"), ElementsAre("the config must be a JSON object, got null"));
}

TEST(ConfigText, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "{\"handlers\": {\"h\": {\"type\": \"t\", \"options\": " + std::string(10000, '[') +
                     std::string(10000, ']') + "}}}";
  EXPECT_THAT(parse_errors(deep), ElementsAre(HasSubstr("invalid JSON")));
}

TEST(ConfigText, EmptyObjectIsAValidConfigWithDefaults) {
  LoadResult r = parse_config("{}", "x.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->source, "x.json");
  EXPECT_EQ(r.config->ingest_bind, "tcp://127.0.0.1:7710");
  EXPECT_EQ(r.config->state.dir, fs::path("var"));
  EXPECT_THAT(r.config->plugin_path, IsEmpty());
  EXPECT_EQ(r.config->status_interval_s, 60u);
}

// ---- the state block ----

TEST(ConfigState, StateBlockNamesBackendAndFolder) {
  auto r = parse_config(R"({"state": {"backend": "sqlite", "dir": "/srv/vumi"}})", "x.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->state.backend, "sqlite");
  EXPECT_EQ(r.config->state.dir, fs::path("/srv/vumi"));
}

TEST(ConfigState, OlderStateDirStillWorks) {
  auto r = parse_config(R"({"state_dir": "/srv/old"})", "x.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->state.backend, "sqlite");
  EXPECT_EQ(r.config->state.dir, fs::path("/srv/old"));
}

TEST(ConfigState, DirDefaultsToVar) {
  auto r = parse_config(R"({"state": {"backend": "sqlite"}})", "x.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->state.dir, fs::path("var"));
}

TEST(ConfigState, BothFormsAreAnError) {
  EXPECT_THAT(parse_errors(R"({"state_dir": "a", "state": {"backend": "sqlite", "dir": "b"}})"),
              ElementsAre("state_dir: give the state folder once: \"state\": {\"dir\": ...} or the older "
                          "\"state_dir\", not both"));
}

TEST(ConfigState, UnknownBackendListsTheKnownOnes) {
  EXPECT_THAT(parse_errors(R"({"state": {"backend": "postgres"}})"),
              ElementsAre("state.backend: unknown backend \"postgres\" (known: sqlite, postgresql)"));
}

TEST(ConfigState, BlockProblemsNameTheirPath) {
  EXPECT_THAT(parse_errors(R"({"state": {"dir": "x"}})"),
              ElementsAre("state: missing required key \"backend\" (known: sqlite, postgresql)"));
  EXPECT_THAT(parse_errors(R"({"state": {"backend": "sqlite", "dir": ""}})"),
              ElementsAre("state.dir: must not be empty"));
  EXPECT_THAT(parse_errors(R"({"state": {"backend": "sqlite", "folder": "x"}})"),
              ElementsAre(HasSubstr("state: unknown key \"folder\" (allowed: backend, dir, url)")));
  EXPECT_THAT(parse_errors(R"({"state": "var"})"), ElementsAre(HasSubstr("state: ")));
}

TEST(ConfigState, PostgresqlTakesAUrlAndKeepsTheFolderForLocalFiles) {
  auto r = parse_config(
      R"({"state": {"backend": "postgresql", "url": "postgresql://vumi@127.0.0.1:5432/vumi"}})", "x.json");
  ASSERT_TRUE(r.ok()) << r.errors.front().text();
  EXPECT_EQ(r.config->state.backend, "postgresql");
  EXPECT_EQ(r.config->state.url, "postgresql://vumi@127.0.0.1:5432/vumi");
  EXPECT_EQ(r.config->state.dir, fs::path("var"));
}

TEST(ConfigState, UrlIsRequiredForPostgresqlAndOnlyThere) {
  EXPECT_THAT(parse_errors(R"({"state": {"backend": "postgresql"}})"),
              ElementsAre("state: missing required key \"url\" for backend \"postgresql\" "
                          "(e.g. \"postgresql://vumi@127.0.0.1:5432/vumi\")"));
  EXPECT_THAT(parse_errors(R"({"state": {"backend": "sqlite", "url": "postgresql://h/db"}})"),
              ElementsAre("state.url: only the postgresql backend takes a url; \"sqlite\" keeps its state in "
                          "state.dir"));
  EXPECT_THAT(
      parse_errors(R"({"state": {"backend": "postgresql", "url": "mysql://u:secret@h/db"}})"),
      ElementsAre("state.url: must be a postgresql:// URL (e.g. \"postgresql://vumi@127.0.0.1:5432/vumi\"), "
                  "not a \"mysql\" URL"));
  EXPECT_THAT(parse_errors(R"({"state": {"backend": "postgresql", "url": 5}})"),
              ElementsAre("state.url: expected string, got integer"));
}

// ---- files ----

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vumi-config-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(ConfigFiles, MissingFileIsAnErrorNamingIt) {
  LoadResult r = load_config_file(dir_ / "nope.json");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].text(), HasSubstr("nope.json"));
  EXPECT_THAT(r.errors[0].text(), HasSubstr("no such file"));
}

TEST_F(ConfigFiles, DirectoryIsAnError) {
  LoadResult r = load_config_file(dir_);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].text(), HasSubstr("is a directory"));
}

TEST_F(ConfigFiles, EmptyFileIsAnError) {
  LoadResult r = load_config_file(write("empty.json", ""));
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].text(), HasSubstr("the config is empty"));
}

// A file over 1 MiB is read in pieces, twice (config_document.hpp): the same Config and the same
// errors, in the same order, as from the text in memory.
std::string large_config_text(std::size_t accounts) {
  std::string text = R"({"handlers": {"h": {"type": "noop"}},)"
                     "\n"
                     R"("accounts": {)"
                     "\n";
  for (std::size_t i = 0; i < accounts; ++i) {
    const std::string n = std::to_string(i);
    // Every 1000th names an unknown handler; account 4321 claims account 7's tag.
    const std::string handler = i % 1000 == 999 ? "nope" : "h";
    const std::string tag = i == 4321 ? "7" : n;
    text += (i ? ",\n" : "") + std::string(R"(  "acct)") + n + R"(": {"conversations": {"poll)" + n +
            R"(": "vxpolls"}, "tags": ["longcode:)" + tag +
            R"("], "routes": [{"on": {"event_type": "done"}, )" + R"("chain": [{"handler": ")" + handler +
            R"(", "config": {"greeting": "hello account )" + n + R"("}}]}]})";
  }
  return text + "\n}}\n";
}

TEST_F(ConfigFiles, ALargeFileReadsAsItsTextWould) {
  const std::string text = large_config_text(6000);
  ASSERT_GT(text.size(), std::size_t{1} << 20);
  const LoadResult from_text = parse_config(text, "large.json");
  const LoadResult from_file = load_config_file(write("large.json", text));
  ASSERT_TRUE(from_file.config.has_value());
  ASSERT_EQ(from_file.config->accounts.size(), 6000u);
  ASSERT_EQ(from_file.errors.size(), from_text.errors.size());
  for (std::size_t i = 0; i < from_text.errors.size(); ++i)
    EXPECT_EQ(from_file.errors[i].text(), from_text.errors[i].text());
  EXPECT_THAT(from_file.errors, SizeIs(7));  // six unknown handlers and the claimed tag
  EXPECT_EQ(from_file.errors[4].text(),
            "accounts.acct4321.tags[0]: tag \"longcode:7\" is claimed by accounts \"acct7\" "
            "(accounts.acct7.tags[0]) and \"acct4321\"; a tag has one owner");
  const AccountSpec& last = from_file.config->accounts.back();
  EXPECT_EQ(last.key, "acct5999");
  EXPECT_EQ(last.tags, std::vector<std::string>{"longcode:5999"});
  EXPECT_EQ(last.routes.at(0).chain.at(0).config().at("greeting"), "hello account 5999");
}

TEST_F(ConfigFiles, ALargeFilesErrorsNameTheirPlace) {
  std::string text = large_config_text(6000);
  text.insert(text.rfind(R"("tags": [)") + 9, ",");  // a syntax error in the last account
  EXPECT_EQ(load_config_file(write("broken.json", text)).errors.at(0).text(),
            parse_config(text, "broken.json").errors.at(0).text());
  EXPECT_THAT(load_config_file(write("broken.json", text)).errors.at(0).text(), HasSubstr("line 6002 col "));
  EXPECT_THAT(load_config_file(write("blank.json", std::string(1 << 21, ' '))).errors,
              ElementsAre(::testing::Property(&ConfigError::text, HasSubstr("the config is empty"))));
}

TEST_F(ConfigFiles, ReadsAFileAndRecordsItsSource) {
  fs::path p = write("ok.json", "{\"state_dir\": \"data\"}");
  LoadResult r = load_config_file(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->source, p.string());
  EXPECT_EQ(r.config->state.dir, fs::path("data"));  // relative: kept as written, taken from the cwd
}

// ---- top-level keys ----

TEST(ConfigKeys, UnknownTopLevelKeySuggestsTheClosest) {
  EXPECT_THAT(
      parse_errors(R"({"handler": {}})"),
      ElementsAre(AllOf(HasSubstr("unknown key \"handler\" (allowed: ingest, outbound, state, state_dir, "
                                  "plugin_path, handlers, accounts, limits, status_interval_s, security, "
                                  "plugin_path_insecure_ok, tag_pools, admin, cluster, workers)"),
                        HasSubstr("did you mean \"handlers\"?"))));
}

TEST(ConfigKeys, WrongTypesAreNamedByPath) {
  EXPECT_THAT(
      parse_errors(R"({"ingest": {"bind": 7710}, "state_dir": [], "plugin_path": 3, "handlers": [],
                               "accounts": "acct1", "status_interval_s": "60"})"),
      ElementsAre("ingest.bind: expected string, got integer", "state_dir: expected string, got array",
                  "plugin_path: expected array of strings or a string, got integer",
                  "handlers: expected object, got array", "accounts: expected object, got string",
                  "status_interval_s: expected integer, got string"));
}

TEST(ConfigKeys, PluginPathIsOneStringOrAnArrayOfThem) {
  LoadResult one = parse_config(R"({"plugin_path": "plugins/a.so"})", "x");
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(one.config->plugin_path, ElementsAre(fs::path("plugins/a.so")));
  LoadResult many = parse_config(R"({"plugin_path": ["a", "/abs/b"]})", "x");
  ASSERT_TRUE(many.ok());
  EXPECT_THAT(many.config->plugin_path, ElementsAre(fs::path("a"), fs::path("/abs/b")));
  EXPECT_THAT(
      parse_errors(R"({"plugin_path": ["a", 1, ""]})"),
      ElementsAre("plugin_path[1]: expected string, got integer", "plugin_path[2]: must not be empty"));
}

TEST(ConfigKeys, EndpointsAreChecked) {
  auto bind = [](std::string_view endpoint) {
    return parse_errors(R"({"ingest": {"bind": ")" + std::string(endpoint) + R"("}})");
  };
  EXPECT_THAT(bind("tcp://127.0.0.1:7000"), IsEmpty());
  // Every interface: refused without CURVE unless the operator allows it (docs/security.md).
  EXPECT_THAT(bind("tcp://*:7000"), ElementsAre(HasSubstr("ingest.bind: \"tcp://*:7000\" is reachable from "
                                                          "other machines")));
  EXPECT_THAT(parse_errors(R"({"ingest": {"bind": "tcp://*:7000"}, "security": {"allow_insecure": true}})"),
              IsEmpty());
  EXPECT_THAT(bind("tcp://localhost:7000"), IsEmpty());
  EXPECT_THAT(bind("tcp://127.0.0.1:*"), IsEmpty());
  EXPECT_THAT(bind("tcp://[::1]:7000"), IsEmpty());
  EXPECT_THAT(bind("ipc:///tmp/vumi.sock"), IsEmpty());
  EXPECT_THAT(bind("inproc://ingest"), IsEmpty());
  EXPECT_THAT(bind("udp://1.2.3.4:5"),
              ElementsAre(HasSubstr("ingest.bind: \"udp://1.2.3.4:5\" is not a ZeroMQ endpoint")));
  EXPECT_THAT(bind("tcp://127.0.0.1"), ElementsAre(HasSubstr("needs HOST:PORT")));
  EXPECT_THAT(bind("tcp://127.0.0.1:70000"), ElementsAre(HasSubstr("port \"70000\" is not a number")));
  EXPECT_THAT(bind("tcp://:7000"), ElementsAre(HasSubstr("has no host")));
  EXPECT_THAT(bind("inproc://"), ElementsAre(HasSubstr("inproc endpoint has no name")));
  EXPECT_THAT(parse_errors(R"({"outbound": {}})"), ElementsAre("outbound: missing required key \"bind\""));
  EXPECT_THAT(parse_errors(R"({"outbound": {"bind": "tcp://127.0.0.1:7710"}})"),
              ElementsAre(HasSubstr("outbound.bind: the same endpoint as ingest.bind")));
  EXPECT_THAT(parse_errors(R"({"ingest": {"bind": "inproc://a", "bnd": 1}})"),
              ElementsAre(HasSubstr("ingest: unknown key \"bnd\" (allowed: bind, reliable_bind)")));
}

TEST(ConfigKeys, SecurityNamesEveryKeyAndRight) {
  const std::string key = "Ve0P?fWM<#d$Kk5&:rH]D=9P4@m-QwW6)-u7cfj!";
  LoadResult r =
      parse_config(R"({"security": {"secret_key_file": "keys/daemon.key", "publishers": {")" + key +
                       R"(": {"name": "w", "accounts": ["acct1"], "commands": false, "transports": "*"}},
                                  "subscribers": {")" +
                       key + R"(": ["outbound.sms_transport"]}}})",
                   "/etc/vumi/dispatcher.json");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(vumi::config::testing::error_texts(r));
  const auto& security = r.config->security;
  EXPECT_EQ(security.secret_key_file, fs::path("/etc/vumi/keys/daemon.key"));  // beside the config file
  ASSERT_EQ(security.publishers.size(), 1u);
  EXPECT_EQ(security.publishers[0].name, "w");
  EXPECT_THAT(security.publishers[0].accounts, ElementsAre("acct1"));
  EXPECT_TRUE(security.publishers[0].commands.empty());
  EXPECT_FALSE(security.publishers[0].all_commands);
  EXPECT_TRUE(security.publishers[0].all_transports);
  ASSERT_EQ(security.subscribers.size(), 1u);
  EXPECT_THAT(security.subscribers[0].prefixes, ElementsAre("outbound.sms_transport"));

  EXPECT_THAT(parse_errors(R"({"security": {"secret_key_file": "k", "publishers": {")" + key +
                           R"(": {"commands": 3}}, "subscribers": {"short": []}, "allow_insecure": 1}})"),
              ElementsAre("security.allow_insecure: expected true or false, got integer",
                          "security.publishers." + key +
                              ": missing required key \"accounts\" (a list of account keys, or \"*\")",
                          "security.publishers." + key +
                              ".commands: expected array of names, \"*\" or false, got integer",
                          HasSubstr("security.subscribers.short: the key is 5 characters long")));
  EXPECT_THAT(parse_errors(R"({"security": {"publishers": {")" + key + R"(": {"accounts": "*"}}}})"),
              ElementsAre(HasSubstr("security: publishers and subscribers need \"secret_key_file\"")));
}

TEST(ConfigKeys, PluginPathOriginIsTheBinarysFolder) {
  LoadResult r = parse_config(R"({"plugin_path": ["$ORIGIN/plugins", "$ORIGIN", "$ORIGINAL/x"],
                                  "plugin_path_insecure_ok": true})",
                              "x");
  ASSERT_TRUE(r.ok());
  const fs::path origin = fs::read_symlink("/proc/self/exe").parent_path();
  EXPECT_THAT(r.config->plugin_path, ElementsAre(origin / "plugins", origin, fs::path("$ORIGINAL/x")));
  EXPECT_TRUE(r.config->plugin_path_insecure_ok);
}

TEST(ConfigKeys, WorkersIsACountOfThreadsFromOneTo64) {
  LoadResult r = parse_config(R"({"workers": 2})", "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->workers, 2u);
  EXPECT_EQ(worker_count(*r.config), 2u);
  EXPECT_THAT(parse_errors(R"({"workers": 0})"), ElementsAre("workers: 0 is out of range (1 to 64)"));
  EXPECT_THAT(parse_errors(R"({"workers": -2})"), ElementsAre("workers: -2 is out of range (1 to 64)"));
  EXPECT_THAT(parse_errors(R"({"workers": 65})"), ElementsAre("workers: 65 is out of range (1 to 64)"));
  EXPECT_THAT(parse_errors(R"({"workers": 1.5})"), ElementsAre("workers: expected integer, got number"));
  EXPECT_THAT(parse_errors(R"({"workers": "2"})"), ElementsAre("workers: expected integer, got string"));
}

TEST(ConfigKeys, WorkersDefaultsToTheNumberOfCores) {
  LoadResult r = parse_config("{}", "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->workers, 0u);  // not given
  const unsigned cores = std::thread::hardware_concurrency();
  EXPECT_EQ(worker_count(*r.config), std::clamp(cores, 1u, kMaxWorkers));
}

TEST(ConfigKeys, StatusIntervalZeroMeansNone) {
  LoadResult r = parse_config(R"({"status_interval_s": 0})", "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->status_interval_s, 0u);
  EXPECT_THAT(parse_errors(R"({"status_interval_s": -5})"),
              ElementsAre("status_interval_s: -5 is out of range (0 to 4294967295)"));
}

TEST(ConfigKeys, LimitsHaveDefaultsAndBounds) {
  LoadResult r = parse_config(
      R"({"limits": {"max_body_bytes": 2048, "max_emit_depth": 3}, "status_interval_s": 5})", "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->limits.max_body_bytes, 2048u);
  EXPECT_EQ(r.config->limits.max_emit_depth, 3u);
  EXPECT_EQ(r.config->limits.max_json_depth, 64u);
  EXPECT_EQ(r.config->limits.max_string_bytes, 64u * 1024u);
  EXPECT_EQ(r.config->status_interval_s, 5u);
  EXPECT_THAT(parse_errors(R"({"limits": {"max_json_depth": 0, "max_emit_depth": -1, "max_string_bytes": 1.5,
                                          "max_emit_dept": 3}})"),
              ElementsAre(AllOf(HasSubstr("limits: unknown key \"max_emit_dept\""),
                                HasSubstr("did you mean \"max_emit_depth\"?")),
                          "limits.max_json_depth: 0 is out of range (1 to 10000)",
                          "limits.max_string_bytes: expected integer, got number",
                          "limits.max_emit_depth: -1 is out of range (1 to 1000)"));
}

// ---- handlers ----

TEST(ConfigHandlers, ShapeAndNames) {
  EXPECT_THAT(
      parse_errors(R"({"handlers": {
      "ok": {"type": "send_sms", "options": {"a": 1}},
      "no_type": {},
      "bad.name": {"type": "x"},
      "bad_type": {"type": "send sms"},
      "opts": {"type": "x", "options": [1]},
      "extra": {"type": "x", "option": {}},
      "scalar": 5}})"),
      ElementsAre(
          "handlers.no_type: missing required key \"type\"",
          "handlers: handler name \"bad.name\" contains '.' (allowed: A-Z a-z 0-9 _ : -)",
          "handlers.bad_type.type: handler type \"send sms\" contains ' ' (allowed: A-Z a-z 0-9 _ : -)",
          "handlers.opts.options: expected object, got array",
          "handlers.extra: unknown key \"option\" (allowed: type, options); did you mean \"options\"?",
          "handlers.scalar: expected object, got integer"));
}

// ---- accounts, conversations, tags ----

TEST(ConfigAccounts, KeysConversationsAndTypes) {
  EXPECT_THAT(
      parse_errors(base_config(R"({
      "acct 1": {},
      "a2": {"conversations": {"poll1": "vx polls", "bad/key": "x", "p2": 3}, "tag": []},
      "a3": []})")),
      ElementsAre(
          "accounts: account key \"acct 1\" contains ' ' (allowed: A-Z a-z 0-9 _ : -)",
          HasSubstr("accounts.a2: unknown key \"tag\" (allowed: conversations, tags, handlers, routes)"),
          "accounts.a2.conversations.poll1: conversation type \"vx polls\" contains ' ' (allowed: A-Z "
          "a-z 0-9 _ : -)",
          "accounts.a2.conversations: conversation key \"bad/key\" contains '/' (allowed: A-Z a-z 0-9 "
          "_ : -)",
          "accounts.a2.conversations.p2: expected string, got integer",
          "accounts.a3: expected object, got array"));
}

TEST(ConfigAccounts, TagsArePoolColonTag) {
  // vumi tags: the pool an identifier, the tag any UTF-8 without control characters or whitespace,
  // split at the first ':' ("a:b:c" is pool "a", tag "b:c").
  const std::string long_tag = "pool:" + std::string(129, 'x');
  EXPECT_THAT(
      parse_errors(
          base_config(R"({"a": {"tags": ["longcode:12345", "ussd:*120*10001#", "longcode:+27820001001",
      "xmpp:xmpp@example.org", "dotted:tag.name.v1", "a:b:c", "longcode", ":1",
      "pool:", "po ol:1", "pool:a b", "pool:tab\t", ")" +
                      long_tag + R"(", 7]}})")),
      ElementsAre("accounts.a.tags[6]: tag \"longcode\" is not \"pool:tag\" (e.g. \"longcode:12345\")",
                  "accounts.a.tags[7]: tag \":1\" has an empty pool (expected \"pool:tag\")",
                  "accounts.a.tags[8]: tag \"pool:\" has an empty tag after the pool (expected \"pool:tag\")",
                  HasSubstr("accounts.a.tags[9]: tag \"po ol:1\" has pool that contains ' '"),
                  HasSubstr("accounts.a.tags[10]: tag \"pool:a b\" has tag that contains U+0020 at byte 1"),
                  HasSubstr("has tag that contains U+0009 at byte 3"),
                  HasSubstr("has tag that is longer than 128 bytes"),
                  "accounts.a.tags[13]: expected string, got integer"));
  EXPECT_THAT(parse_errors(base_config(R"({"a": {"tags": "longcode:1"}})")),
              ElementsAre("accounts.a.tags: expected array, got string"));
}

TEST(ConfigAccounts, ATagHasOneOwner) {
  EXPECT_THAT(
      parse_errors(base_config(R"({"acct1": {"tags": ["longcode:1", "longcode:1"]},
                                           "acct2": {"tags": ["longcode:2", "longcode:1"]},
                                           "acct3": {"tags": ["longcode:3", "longcode:4", "longcode:3"]},
                                           "acct4": {"tags": ["longcode:4", "longcode:5"]}})")),
      ElementsAre("accounts.acct1.tags[1]: tag \"longcode:1\" is listed twice (also accounts.acct1.tags[0])",
                  "accounts.acct2.tags[1]: tag \"longcode:1\" is claimed by accounts \"acct1\" "
                  "(accounts.acct1.tags[0]) and \"acct2\"; a tag has one owner",
                  "accounts.acct3.tags[2]: tag \"longcode:3\" is listed twice (also accounts.acct3.tags[0])",
                  "accounts.acct4.tags[0]: tag \"longcode:4\" is claimed by accounts \"acct3\" "
                  "(accounts.acct3.tags[1]) and \"acct4\"; a tag has one owner"));
}

// ---- routes and steps ----

TEST(ConfigRoutes, OnKeysAreStringsAndOptional) {
  LoadResult r = parse_config(base_config(R"({"a": {"routes": [
      {"on": {"event_type": "poll_complete"}, "chain": [{"handler": "sms"}]},
      {"chain": [{"handler": "sms"}]}]}})"),
                              "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->accounts[0].routes[0].on.event_type, "poll_complete");
  EXPECT_EQ(r.config->accounts[0].routes[1].on.event_type, "");  // any
  EXPECT_THAT(parse_errors(base_config(R"({"a": {"routes": [
      {"on": {"event_type": 5, "conversation_key": null, "event": "x"}, "chain": [{"handler": "sms"}]}]}})")),
              ElementsAre(AllOf(HasSubstr("accounts.a.routes[0].on: unknown key \"event\" (allowed: "
                                          "conversation_type, conversation_key, event_type)"),
                                HasSubstr("did you mean \"event_type\"?")),
                          "accounts.a.routes[0].on.conversation_key: expected string, got null",
                          "accounts.a.routes[0].on.event_type: expected string, got integer"));
}

// Handler and step names, event and conversation types are held once for the accounts read
// together, and stay valid after the document they were read from, and the Config, are gone: an
// account's copy keeps them (ASan would flag a view into freed names).
TEST(ConfigRoutes, RecurringNamesAreHeldOnceAndLiveAsLongAsTheAccounts) {
  std::optional<Config> config;
  {
    LoadResult r = parse_config(base_config(R"({
      "a": {"routes": [{"on": {"conversation_type": "vxpolls", "event_type": "poll_complete"},
                        "chain": [{"handler": "sms", "as": "sent"}]}]},
      "b": {"routes": [{"on": {"conversation_type": "vxpolls", "event_type": "poll_complete"},
                        "chain": [{"handler": "sms", "as": "sent"}]}]}})"),
                                "x");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(vumi::config::testing::error_texts(r));
    config = std::move(r.config);
  }
  {
    const RouteSpec& a = config->accounts[0].routes[0];
    const RouteSpec& b = config->accounts[1].routes[0];
    EXPECT_EQ(a.chain[0].handler.data(), b.chain[0].handler.data());
    EXPECT_EQ(a.chain[0].as.data(), b.chain[0].as.data());
    EXPECT_EQ(a.on.conversation_type.data(), b.on.conversation_type.data());
    EXPECT_EQ(a.on.event_type.data(), b.on.event_type.data());
  }
  const AccountSpec kept = config->accounts[1];
  config.reset();
  const RouteSpec& route = kept.routes[0];
  EXPECT_EQ(route.chain[0].handler, "sms");
  EXPECT_EQ(route.chain[0].as, "sent");
  EXPECT_EQ(route.on.conversation_type, "vxpolls");
  EXPECT_EQ(route.on.event_type, "poll_complete");
}

TEST(ConfigRoutes, ChainsAreNonEmptyArrays) {
  EXPECT_THAT(parse_errors(base_config(R"({"a": {"routes": [{"chain": []}, {"on": {}}, {"chain": {}}, 3],
                                               "x": 1}})")),
              ElementsAre(HasSubstr("accounts.a: unknown key \"x\""),
                          "accounts.a.routes[0].chain: a chain needs at least one step",
                          "accounts.a.routes[1]: missing required key \"chain\"",
                          "accounts.a.routes[2].chain: expected array, got object",
                          "accounts.a.routes[3]: expected object, got integer"));
  EXPECT_THAT(parse_errors(base_config(R"({"a": {"routes": {}}})")),
              ElementsAre("accounts.a.routes: expected array, got object"));
}

TEST(ConfigRoutes, UnknownHandlerListsTheKnownOnes) {
  EXPECT_THAT(
      parse_errors(
          base_config(R"({"acct1": {"routes": [{"chain": [{"handler": "sms"}, {"handler": "smss"}]}]}})")),
      ElementsAre(
          "accounts.acct1.routes[0].chain[1].handler: unknown handler \"smss\" (known: poll_contacts, sms); "
          "did you mean \"sms\"?"));
}

TEST(ConfigRoutes, StepShape) {
  EXPECT_THAT(
      parse_errors(base_config(R"({"a": {"routes": [{"chain": [
      {"as": "x"},
      {"handler": 1, "config": []},
      {"handler": "sms", "as": "bad name", "confg": {}},
      "sms"]}]}})")),
      ElementsAre("accounts.a.routes[0].chain[0]: missing required key \"handler\"",
                  "accounts.a.routes[0].chain[1].handler: expected string, got integer",
                  "accounts.a.routes[0].chain[1].config: expected object, got array",
                  "accounts.a.routes[0].chain[2]: unknown key \"confg\" (allowed: handler, as, config); did "
                  "you mean \"config\"?",
                  "accounts.a.routes[0].chain[2].as: step name \"bad name\" contains ' ' (allowed: A-Z a-z "
                  "0-9 _ : -)",
                  "accounts.a.routes[0].chain[3]: expected object, got string"));
}

TEST(ConfigRoutes, AsIsUniqueWithinAChain) {
  EXPECT_THAT(
      parse_errors(base_config(R"({"a": {"routes": [
      {"chain": [{"handler": "sms", "as": "x"}, {"handler": "sms", "as": "x"}]},
      {"chain": [{"handler": "sms", "as": "x"}]}]}})")),
      ElementsAre("accounts.a.routes[0].chain[1].as: step name \"x\" is used by an earlier step of this "
                  "chain"));
}

// ---- templates in step configs ----

TEST(ConfigTemplates, StepsMustBeEarlierStepsOfTheSameChain) {
  EXPECT_THAT(
      parse_errors(base_config(R"({"a": {"routes": [
      {"chain": [
        {"handler": "sms", "as": "first", "config": {"to": "{{/steps/first/x}}"}},
        {"handler": "sms", "as": "second", "config": {"to": "{{/steps/first/x}}", "n": ["{{/steps/third}}"]}},
        {"handler": "sms", "as": "third"}]},
      {"chain": [{"handler": "sms", "config": {"to": "a {{/steps/first/x}}"}}]}]}})")),
      ElementsAre("accounts.a.routes[0].chain[0].config.to: template {{/steps/first/x}} refers to step "
                  "\"first\", which is not an earlier step of this chain (earlier named steps: none)",
                  "accounts.a.routes[0].chain[1].config.n[0]: template {{/steps/third}} refers to step "
                  "\"third\", which is not an earlier step of this chain (earlier named steps: first)",
                  "accounts.a.routes[1].chain[0].config.to: template {{/steps/first/x}} refers to step "
                  "\"first\", which is not an earlier step of this chain (earlier named steps: none)"));
}

TEST(ConfigTemplates, AnEmptyStepNameIsNoEarlierStep) {
  EXPECT_THAT(
      parse_errors(base_config(R"({"a": {"routes": [{"chain": [
      {"handler": "sms", "as": "first"}, {"handler": "sms", "config": {"to": "{{/steps/}}"}}]}]}})")),
      ElementsAre("accounts.a.routes[0].chain[1].config.to: template {{/steps/}} refers to step \"\", "
                  "which is not an earlier step of this chain (earlier named steps: first)"));
}

TEST(ConfigTemplates, SyntaxErrorsAreNamedByPath) {
  EXPECT_THAT(
      parse_errors(base_config(R"({"a": {"routes": [{"chain": [{"handler": "sms", "config": {
      "a": "{{/event/x", "b": "{{}}", "c": "x {{event/x}}", "d": {"e": "{{/evnt/x}}"}, "f": "{{/event/~2}}",
      "g": "{{/account/name}}"}}]}]}})")),
      ElementsAre("accounts.a.routes[0].chain[0].config.a: unclosed \"{{\" at character 1",
                  "accounts.a.routes[0].chain[0].config.b: template {{}}: empty pointer",
                  "accounts.a.routes[0].chain[0].config.c: template {{event/x}}: pointer must start with '/'",
                  "accounts.a.routes[0].chain[0].config.d.e: template {{/evnt/x}}: unknown root \"/evnt\" "
                  "(allowed: /event, /steps, /account)",
                  HasSubstr("accounts.a.routes[0].chain[0].config.f: template {{/event/~2}}: '~' must be "
                            "followed by 0 or 1"),
                  "accounts.a.routes[0].chain[0].config.g: template {{/account/name}}: /account has only "
                  "/account/key, /account/conversations and /account/tags"));
}

TEST(ConfigTemplates, CompiledAtLoad) {
  LoadResult r = parse_config(base_config(R"({"a": {"routes": [{"chain": [
      {"handler": "poll_contacts", "as": "c", "config": {"msisdn": "{{/event/event_data/from_addr}}"}},
      {"handler": "sms", "config": {"to_addr": "{{/steps/c/msisdn}}", "content": "hi"}}]}]}})"),
                              "x");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(vumi::config::testing::error_texts(r));
  const StepSpec& step = r.config->accounts[0].routes[0].chain[1];
  ASSERT_THAT(step.compiled.uses(), SizeIs(1));
  EXPECT_EQ(step.compiled.uses()[0].pointer, "/steps/c/msisdn");
  EXPECT_EQ(step.compiled.uses()[0].where, "to_addr");
}

// ---- every error, in one pass ----

TEST(ConfigErrors, EveryErrorIsReported) {
  auto errors = parse_errors(R"({
    "ingest": {"bind": "nope"},
    "state_dir": 1,
    "handlers": {"sms": {"type": "send_sms"}, "h2": {}},
    "accounts": {
      "acct1": {"tags": ["bad"], "routes": [{"chain": [{"handler": "smss"}, {"handler": "sms", "as": "a b"}]}]},
      "acct2": {"conversations": {"c": 1}}
    },
    "limits": {"max_emit_depth": 0},
    "bogus": true
  })");
  EXPECT_THAT(errors, SizeIs(9));
  EXPECT_THAT(errors,
              Contains(HasSubstr("accounts.acct1.routes[0].chain[0].handler: unknown handler \"smss\"")));
  EXPECT_THAT(errors, Contains(HasSubstr("unknown key \"bogus\"")));
}

TEST(ConfigErrors, TextJoinsPathAndMessage) {
  EXPECT_EQ((ConfigError{"a.b", "bad"}).text(), "a.b: bad");
  EXPECT_EQ((ConfigError{"", "bad"}).text(), "bad");
}

}  // namespace

namespace {

TEST(ConfigTagPools, ReadsEachPoolsTransportAndReply) {
  auto loaded = vumi::config::parse_config(R"({"tag_pools": {
      "ussd": {"transport_name": "ussd_transport", "transport_type": "ussd", "reply_to_unroutable": "Not in use."},
      "longcode": {"transport_name": "sms_transport", "reply_to_unroutable": null}}})",
                                           "test");
  ASSERT_TRUE(loaded.ok());
  const auto& pools = loaded.config->tag_pools;
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools[0].pool, "ussd");
  EXPECT_EQ(pools[0].transport_name, "ussd_transport");
  EXPECT_EQ(pools[0].transport_type, "ussd");
  EXPECT_EQ(pools[0].reply_to_unroutable, "Not in use.");
  EXPECT_EQ(pools[1].pool, "longcode");
  EXPECT_FALSE(pools[1].transport_type);
  EXPECT_FALSE(pools[1].reply_to_unroutable);
}

TEST(ConfigTagPools, NamesEveryProblemByPath) {
  EXPECT_THAT(parse_errors(R"({"tag_pools": {"a:b": {"transport_name": "t"},
      "p1": {"transport_type": "sms"}, "p2": {"transport_name": "x.y", "reply_to_unroutable": " "},
      "p3": {"transport_name": "t", "reply_to_unroutabel": "x"}, "p4": 3}})"),
              ElementsAre(HasSubstr("tag_pools.a:b: pool \"a:b\" contains ':'"),
                          "tag_pools.p1: missing required key \"transport_name\"",
                          HasSubstr("tag_pools.p2.transport_name: "),
                          "tag_pools.p2.reply_to_unroutable: must not be empty (null or absent: no reply)",
                          HasSubstr("tag_pools.p3: unknown key \"reply_to_unroutabel\""),
                          "tag_pools.p4: expected object, got integer"));
}

}  // namespace
