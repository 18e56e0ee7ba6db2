// The real `vumi-dispatcher check` and `plugins` commands, run as a process on the example configs
// and on broken ones. --plugin-path points at this build's plugins so it works from any build dir.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class Command : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vumi-check-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs vumi-dispatcher with args (already quoted), capturing stdout, stderr and the exit code.
  ProcessResult run(const std::string& args) {
    fs::path err_file = dir_ / "stderr.txt";
    std::string command =
        shell_quoted(VUMI_DISPATCHER_EXE) + " " + args + " 2>" + shell_quoted(err_file.string());
    ProcessResult r;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_file);
    std::ostringstream s;
    s << in.rdbuf();
    r.err = s.str();
    return r;
  }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  static std::string plugin_path() { return "--plugin-path " + shell_quoted(VUMI_PLUGIN_DIR); }

  fs::path dir_;
};

TEST_F(Command, CheckAcceptsEveryExampleConfig) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(VUMI_SOURCE_DIR) / "config")) {
    if (entry.path().extension() != ".json") continue;
    ProcessResult r = run("check -c " + shell_quoted(entry.path().string()) + " " + plugin_path());
    EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.err;
    EXPECT_THAT(r.out, StartsWith("config OK: " + entry.path().string() + "\n")) << r.out;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST_F(Command, CheckSummarisesTheDefaultConfig) {
  ProcessResult r =
      run("check -c " + shell_quoted(VUMI_SOURCE_DIR "/config/dispatcher.json") + " " + plugin_path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  handlers: 4\n  accounts: 1, routes: 2, tags: 2\n"));
  EXPECT_THAT(r.out, HasSubstr("send_sms"));
}

TEST_F(Command, CheckWithoutConfigUsesTheEmbeddedDefault) {
  ProcessResult r = run("check " + plugin_path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("config OK: <embedded>\n"));
}

TEST_F(Command, CheckReportsEveryErrorByPath) {
  fs::path file = write("bad.json", R"({
    "plugin_path": [)" + std::string("\"") +
                                        VUMI_PLUGIN_DIR + R"("],
    "handlers": {
      "sms": {"type": "send_sms", "options": {"transport_name": 7}},
      "poll_contacts": {"type": "create_contact"},
      "ghost": {"type": "no_such_type"}
    },
    "accounts": {"acct1": {"routes": [{"chain": [{"handler": "sms", "config": {"to_addr": "x", "content": "y"}},
                                                 {"handler": "smss"}]}]}}
  })");
  ProcessResult r = run("check -c " + shell_quoted(file.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err,
              HasSubstr("accounts.acct1.routes[0].chain[1].handler: unknown handler \"smss\" (known: sms, "
                        "poll_contacts, ghost); did you mean \"sms\"?\n"));
  EXPECT_THAT(r.err, HasSubstr("handlers.sms.options.transport_name: expected string, got integer\n"));
  EXPECT_THAT(r.err, HasSubstr("handlers.ghost.type: unknown handler type \"no_such_type\""));
  EXPECT_THAT(r.err, HasSubstr("3 errors in " + file.string() + "\n"));
}

TEST_F(Command, CheckReportsUnreadableConfigs) {
  ProcessResult missing = run("check -c " + shell_quoted((dir_ / "nope.json").string()));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no such file"));

  ProcessResult bad_json =
      run("check -c " + shell_quoted(write("b.json", "{\n  \"handlers\": {\n}").string()));
  EXPECT_EQ(bad_json.exit_code, 1);
  EXPECT_THAT(bad_json.err, HasSubstr("invalid JSON: line 3 col 2"));

  ProcessResult empty = run("check -c " + shell_quoted(write("e.json", "").string()));
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_THAT(empty.err, HasSubstr("the config is empty"));
  EXPECT_THAT(empty.err, HasSubstr("1 error in "));
}

TEST_F(Command, CheckReportsARefusedPlugin) {
  fs::path not_a_plugin = write("junk.so", "this is not a shared object");
  ProcessResult r = run("check -c " + shell_quoted(VUMI_SOURCE_DIR "/config/example-minimal.json") +
                        " --plugin-path " + shell_quoted(VUMI_PLUGIN_DIR "/example.so") + " --plugin-path " +
                        shell_quoted(not_a_plugin.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("plugin_path: plugin refused: " + not_a_plugin.string() + ": "));
}

TEST_F(Command, PluginsListsHandlerTypesWithSchemas) {
  ProcessResult r = run("plugins -c " + shell_quoted(VUMI_SOURCE_DIR "/config/example-minimal.json") +
                        " --plugin-path " + shell_quoted(VUMI_PLUGIN_DIR "/example.so"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("plugin example 1.0.0\n"));
  EXPECT_THAT(r.out, HasSubstr("  ABI:       1."));
  EXPECT_THAT(r.out, HasSubstr("  set_output - Stores its configured object as the step's output.\n"));
  EXPECT_THAT(r.out, HasSubstr("    threading: reentrant\n"));
  EXPECT_THAT(r.out,
              HasSubstr("    step config:\n"
                        "      KEY       TYPE    REQUIRED  DEFAULT  DESCRIPTION\n"
                        "      output    object  yes                The object to store as steps.<as>.\n"
                        "      output.*  any     no                 any other key\n"));
  EXPECT_THAT(r.out,
              HasSubstr("      message  string  no        \"failed on purpose\"  The failure message.\n"));
  EXPECT_THAT(r.out, HasSubstr("    options:\n      (none)\n"));
}

TEST_F(Command, PluginsJsonIsMachineReadable) {
  ProcessResult r = run("plugins --json -c " + shell_quoted(VUMI_SOURCE_DIR "/config/dispatcher.json") + " " +
                        plugin_path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  boost::json::value v = boost::json::parse(r.out);
  const auto& plugins = v.at("plugins").as_array();
  bool found = false;
  for (const auto& p : plugins) {
    for (const auto& t : p.at("handler_types").as_array()) {
      if (t.at("name") != "send_sms") continue;
      found = true;
      EXPECT_EQ(t.at("options_schema").at("required").at(0), "transport_name");
    }
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_TRUE(v.at("refusals").as_array().empty());
}

TEST_F(Command, CheckRefusesPluginsOthersCouldHaveWrittenAndNamesTheFix) {
  const fs::path loose = dir_ / "loose";
  fs::create_directories(loose);
  fs::copy_file(fs::path(VUMI_PLUGIN_DIR) / "example.so", loose / "example.so");
  fs::permissions(loose, fs::perms::all);
  const std::string config =
      R"({"plugin_path": [")" + loose.string() + R"("], "handlers": {"log": {"type": "log_event"}}})";
  ProcessResult r = run("check -c " + shell_quoted(write("loose.json", config).string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("plugin folder " + loose.string() + " is writable by group and others (mode 0777)"));
  EXPECT_THAT(r.err, HasSubstr("fix: chmod go-w " + loose.string()));

  const std::string accepted = config.substr(0, config.size() - 1) + R"(, "plugin_path_insecure_ok": true})";
  ProcessResult ok = run("check -c " + shell_quoted(write("accepted.json", accepted).string()));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("plugin_path_insecure_ok: files others can write are loaded"));
}

TEST_F(Command, CheckSaysTheEmbeddedConfigFindsPluginsBesideTheBinary) {
  ProcessResult r = run("check");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const fs::path beside = fs::path(VUMI_DISPATCHER_EXE).parent_path() / "plugins";
  EXPECT_THAT(r.out,
              HasSubstr("  plugin_path:\n    " + beside.string() + " (\"$ORIGIN\": beside this binary)"));
  EXPECT_THAT(r.out, HasSubstr("  security: CURVE off: unauthenticated, loopback binds only"));
}

TEST_F(Command, CheckRefusesUnauthenticatedBindsBeyondLoopback) {
  const std::string open =
      R"({"ingest": {"bind": "tcp://0.0.0.0:7710"}, "outbound": {"bind": "tcp://127.0.0.1:7711"}})";
  ProcessResult r = run("check -c " + shell_quoted(write("open.json", open).string()) + " " + plugin_path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ingest.bind: \"tcp://0.0.0.0:7710\" is reachable from other machines"));
  const std::string allowed = open.substr(0, open.size() - 1) + R"(, "security": {"allow_insecure": true}})";
  ProcessResult ok =
      run("check -c " + shell_quoted(write("allowed.json", allowed).string()) + " " + plugin_path());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("binds beyond loopback allowed (allow_insecure)"));
}

TEST_F(Command, CheckReadsTheDaemonsSecretKeyFile) {
  const fs::path key = write("daemon.key", "RjS&[q{Ma1T7CKNfwDd/Jey]x^.J{R&eo}hLDstm\n");
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  const std::string config = R"({"security": {"secret_key_file": "daemon.key", "publishers": {
      "NK!@!8Pz0BP!QV$1)Y%Gt8i{)Os?oVppbnTHP$S5": {"name": "w", "accounts": ["acct1"], "commands": false}},
      "subscribers": {"?q+}cgI49$iUiOjhLqj8UqY6.Xn(lF1aqv.BFy/t": ["outbound.sms_transport"]}}})";
  ProcessResult r =
      run("check -c " + shell_quoted(write("secure.json", config).string()) + " " + plugin_path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("security: CURVE on, 1 publisher key(s), 1 subscriber key(s)"));

  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  ProcessResult open = run("check -c " + shell_quoted((dir_ / "secure.json").string()) + " " + plugin_path());
  EXPECT_EQ(open.exit_code, 1);
  EXPECT_THAT(open.err, HasSubstr("security.secret_key_file: secret key file " + key.string() +
                                  " is open to group or others (mode 0604)"));

  const std::string bad =
      R"({"security": {"secret_key_file": "daemon.key", "publishers": {"short": {"accounts": "*"}}}})";
  ProcessResult b = run("check -c " + shell_quoted(write("bad.json", bad).string()) + " " + plugin_path());
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_THAT(b.err,
              HasSubstr("security.publishers.short: the key is 5 characters long; a Z85 CURVE key has 40"));
}

}  // namespace
