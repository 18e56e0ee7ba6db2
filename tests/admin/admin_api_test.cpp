// The admin API on a running daemon: every route with good and bad input, who may do what, the
// seed's handler-creation flow end to end over ZeroMQ, rollback, live changes beside a flood.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "admin_client.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using testing::AdminDaemon;
using testing::ChildProcess;
using testing::kOperatorToken;

// A file account used to learn that the outbound subscription has reached the daemon.
const std::string kProbeAccounts = R"({"probe": {"conversations": {"c": "survey"}, "routes": [
    {"on": {"event_type": "ping"}, "chain": [{"handler": "probe_sms", "config": {"to_addr": "+1", "content": "pong"}}]}]}})";
const std::string kProbeHandlers =
    R"({"probe_sms": {"type": "send_sms", "options": {"transport_name": "probe"}}})";

std::string probe_ping() {
  return R"({"account_key":"probe","conversation_key":"c","conversation_type":"survey","event_type":"ping","event_data":{}})";
}

std::string poll_complete(const std::string& account, const std::string& msisdn, const std::string& name) {
  return R"({"account_key":")" + account +
         R"(","conversation_key":"poll1","conversation_type":"vxpolls","event_type":"poll_complete","event_data":{"from_addr":")" +
         msisdn + R"(","answers":{"name":")" + name + R"("}}})";
}

std::map<std::string, std::string> if_match(const std::string& etag) {
  return {{"If-Match", etag}};
}

// Workers and a listener connected to the daemon, the outbound path proven with a probe ping.
struct Wire {
  zmq::context_t context{1};
  std::unique_ptr<transport::WorkerPublisher> pub;
  std::unique_ptr<transport::TopicSubscriber> sub;

  explicit Wire(testing::Daemon& daemon) {
    pub = std::make_unique<transport::WorkerPublisher>(context, daemon.ingest);
    EXPECT_TRUE(pub->wait_for_subscriptions({"event."}, 10s));
    sub = std::make_unique<transport::TopicSubscriber>(context, daemon.outbound,
                                                       std::vector<std::string>{"outbound."});
    bool ready = false;
    for (int i = 0; i < 100 && !ready; ++i) {
      pub->send("event.probe.survey.ping", probe_ping());
      ready = sub->receive(100ms).has_value();
    }
    EXPECT_TRUE(ready) << "the outbound subscription never reached the daemon";
    while (sub->receive(200ms)) {
    }
  }
  void send(const std::string& account, const std::string& type, const std::string& event_type,
            const std::string& body) {
    ASSERT_TRUE(pub->send("event." + account + "." + type + "." + event_type, body));
  }
  // The next outbound message not for the probe transport.
  std::optional<transport::ReceivedMessage> next(std::chrono::milliseconds timeout = 10s) {
    for (;;) {
      auto got = sub->receive(timeout);
      if (!got || got->topic != "outbound.probe") return got;
    }
  }
};

// Creates acct1 through the API with poll1, a create_contact and a send_sms handler, and a route
// on poll_complete chaining them; returns the ETag after the route.
std::string seed_flow(AdminDaemon& admin, const std::string& sms_content) {
  auto created =
      admin.call("POST", "/api/accounts",
                 R"({"key": "acct1", "conversations": {"poll1": "vxpolls"}, "tags": ["longcode:1001"]})");
  EXPECT_EQ(created.status, 201) << created.body;
  auto contacts =
      admin.call("POST", "/api/accounts/acct1/handlers", R"({"name": "contacts", "type": "create_contact"})");
  EXPECT_EQ(contacts.status, 201) << contacts.body;
  auto sms =
      admin.call("POST", "/api/accounts/acct1/handlers",
                 R"({"name": "sms", "type": "send_sms", "options": {"transport_name": "sms_transport"}})");
  EXPECT_EQ(sms.status, 201) << sms.body;
  auto route = admin.call("POST", "/api/accounts/acct1/routes",
                          R"({
      "on": {"conversation_type": "vxpolls", "conversation_key": "poll1", "event_type": "poll_complete"},
      "chain": [
        {"handler": "contacts", "as": "contact",
         "config": {"fields": {"msisdn": "{{/event/event_data/from_addr}}", "name": "{{/event/event_data/answers/name}}"}}},
        {"handler": "sms", "config": {"to_addr": "{{/steps/contact/msisdn}}", "content": ")" +
                              sms_content + R"("}}]})");
  EXPECT_EQ(route.status, 201) << route.body;
  return route.etag();
}

TEST(AdminApi, SeedFlowCreatesHandlersAndARouteThatRunsOnTheNextEvent) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  ASSERT_FALSE(admin.admin().empty()) << admin.daemon().process().output();
  Wire wire(admin.daemon());
  seed_flow(admin, "Thanks {{/steps/contact/name}}!");

  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820001001", "Ann"));
  auto sms = wire.next();
  ASSERT_TRUE(sms) << admin.daemon().process().output();
  EXPECT_EQ(sms->topic, "outbound.sms_transport");
  auto body = bj::parse(sms->body);
  EXPECT_EQ(body.at("to_addr").as_string(), "+27820001001");
  EXPECT_EQ(body.at("content").as_string(), "Thanks Ann!");

  ChildProcess contacts(
      {VUMI_DISPATCHER_EXE, "contacts", "-c", admin.config().string(), "--account", "acct1", "--json"});
  ASSERT_EQ(contacts.wait_exit(30s), 0) << contacts.output();
  EXPECT_NE(contacts.output().find("\"msisdn\":\"+27820001001\""), std::string::npos) << contacts.output();
  EXPECT_NE(contacts.output().find("\"name\":\"Ann\""), std::string::npos) << contacts.output();
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, RollbackRestoresThePreviousBehaviour) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  Wire wire(admin.daemon());
  std::string etag = seed_flow(admin, "first");  // acct1 version 4
  auto route = admin.call("GET", "/api/accounts/acct1/routes/0");
  ASSERT_EQ(route.status, 200);
  bj::value doc = route.json();
  doc.as_object()["chain"].as_array()[1].as_object()["config"].as_object()["content"] = "second";
  auto changed =
      admin.call("PUT", "/api/accounts/acct1/routes/0", bj::serialize(doc), kOperatorToken, if_match(etag));
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.etag(), "\"5\"");

  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820001002", "Bo"));
  auto sms = wire.next();
  ASSERT_TRUE(sms);
  EXPECT_EQ(bj::parse(sms->body).at("content").as_string(), "second");

  auto history = admin.call("GET", "/api/accounts/acct1/history");
  ASSERT_EQ(history.status, 200);
  auto versions = history.json().at("versions").as_array();
  ASSERT_EQ(versions.size(), 5u);
  EXPECT_EQ(versions[0].at("version").as_int64(), 5);
  EXPECT_EQ(versions[0].at("token").as_string(), "operator");
  EXPECT_EQ(versions[0].at("diff").as_array()[0].at("path").as_string(), "/routes/0/chain/1/config/content");

  auto rolled = admin.call("POST", "/api/accounts/acct1/rollback", R"({"version": 4})");
  ASSERT_EQ(rolled.status, 200) << rolled.body;
  EXPECT_EQ(rolled.etag(), "\"6\"");
  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820001003", "Cy"));
  sms = wire.next();
  ASSERT_TRUE(sms);
  EXPECT_EQ(bj::parse(sms->body).at("content").as_string(), "first");

  // Back to before the route: the event runs nothing; a probe ping sent after it is the sentinel.
  ASSERT_EQ(admin.call("POST", "/api/accounts/acct1/rollback", R"({"version": 3})").status, 200);
  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820001004", "Di"));
  wire.send("probe", "survey", "ping", probe_ping());
  auto after = wire.sub->receive(10s);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->topic, "outbound.probe");
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, AccountsCreatedThroughTheApiSurviveARestart) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  seed_flow(admin, "kept");
  ASSERT_EQ(admin.stop(), 0);
  admin.restart();
  ASSERT_FALSE(admin.admin().empty()) << admin.daemon().process().output();
  auto account = admin.call("GET", "/api/accounts/acct1");
  ASSERT_EQ(account.status, 200) << account.body;
  EXPECT_EQ(account.etag(), "\"4\"");
  EXPECT_EQ(account.json().at("source").as_string(), "api");
  Wire wire(admin.daemon());
  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820001005", "Ed"));
  auto sms = wire.next();
  ASSERT_TRUE(sms);
  EXPECT_EQ(bj::parse(sms->body).at("content").as_string(), "kept");
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, BadInputIsRefusedWithTheValidatorsPathsAndWords) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  ASSERT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct1", "conversations": {"poll1": "vxpolls"}})")
                .status,
            201);

  auto malformed = admin.call("POST", "/api/accounts/acct1/routes", R"({"chain": [)");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("request body is not JSON: line 1"), std::string::npos) << malformed.body;

  auto unknown = admin.call("POST", "/api/accounts/acct1/routes", R"({"chian": []})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.json().at("errors").as_array()[0].at("path").as_string(), "/routes/0") << unknown.body;
  EXPECT_NE(unknown.body.find(R"(unknown key \"chian\")"), std::string::npos) << unknown.body;

  auto schema = admin.call("POST", "/api/accounts/acct1/routes", R"({"on": {"event_type": "x"},
      "chain": [{"handler": "probe_sms", "config": {"to_addr": 5, "content": "x"}}]})");
  EXPECT_EQ(schema.status, 422);
  auto error = schema.json().at("errors").as_array()[0];
  EXPECT_EQ(error.at("path").as_string(), "/routes/0/chain/0/config/to_addr") << schema.body;
  EXPECT_EQ(error.at("message").as_string(), "expected string, got integer");

  // The same words `check` prints for the same mistake in the config file.
  auto cfg = admin.dir().write("bad.json", R"({"state_dir": ")" + (admin.dir().path() / "s2").string() +
                                               R"(", "plugin_path": [")" VUMI_PLUGIN_DIR R"("],
      "handlers": {"probe_sms": {"type": "send_sms", "options": {"transport_name": "probe"}}},
      "accounts": {"acct1": {"routes": [{"on": {"event_type": "x"},
        "chain": [{"handler": "probe_sms", "config": {"to_addr": 5, "content": "x"}}]}]}}})");
  ChildProcess check({VUMI_DISPATCHER_EXE, "check", "-c", cfg.string()});
  EXPECT_EQ(check.wait_exit(30s), 1);
  EXPECT_NE(
      check.output().find("accounts.acct1.routes[0].chain[0].config.to_addr: expected string, got integer"),
      std::string::npos)
      << check.output();

  auto handler_type =
      admin.call("POST", "/api/accounts/acct1/handlers", R"({"name": "h", "type": "send_smss"})");
  EXPECT_EQ(handler_type.status, 422);
  EXPECT_EQ(handler_type.json().at("errors").as_array()[0].at("path").as_string(), "/handlers/h/type");
  EXPECT_NE(handler_type.body.find(R"(did you mean \"send_sms\"?)"), std::string::npos) << handler_type.body;

  auto refused_options =
      admin.call("POST", "/api/accounts/acct1/handlers", R"({"name": "h", "type": "send_sms"})");
  EXPECT_EQ(refused_options.status, 422) << refused_options.body;

  // Tags: a conflict names the owner.
  ASSERT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct2", "tags": ["longcode:7"]})").status, 201);
  auto conflict = admin.call("PUT", "/api/accounts/acct1/tags/longcode:7");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_NE(conflict.body.find(R"(owned by account \"acct2\")"), std::string::npos) << conflict.body;
  auto bad_tag = admin.call("PUT", "/api/accounts/acct1/tags/notatag");
  EXPECT_EQ(bad_tag.status, 422) << bad_tag.body;
  EXPECT_EQ(admin.call("PUT", "/api/accounts/acct1/tags/longcode%3A8").status, 201);
  auto tags = admin.call("GET", "/api/accounts/acct1/tags");
  EXPECT_EQ(tags.body, "[\"longcode:8\"]\n");

  // ETags: stale 412, missing 428, current succeeds.
  auto account = admin.call("GET", "/api/accounts/acct1");
  const std::string etag = account.etag();
  auto stale = admin.call("PUT", "/api/accounts/acct1/conversations/poll1", R"("survey")", kOperatorToken,
                          if_match("\"1\""));
  EXPECT_EQ(stale.status, 412);
  EXPECT_NE(stale.body.find("is stale"), std::string::npos);
  EXPECT_EQ(admin.call("PUT", "/api/accounts/acct1/conversations/poll1", R"("survey")").status, 428);
  auto fresh = admin.call("PUT", "/api/accounts/acct1/conversations/poll1", R"("survey")", kOperatorToken,
                          if_match(etag));
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_NE(fresh.etag(), etag);

  // Accounts of the config file are read-only.
  auto file_account = admin.call("GET", "/api/accounts/probe");
  EXPECT_EQ(file_account.status, 200);
  EXPECT_EQ(file_account.json().at("source").as_string(), "file");
  auto read_only =
      admin.call("PUT", "/api/accounts/probe", "{}", kOperatorToken, if_match(file_account.etag()));
  EXPECT_EQ(read_only.status, 409);
  EXPECT_NE(read_only.body.find("edit the file"), std::string::npos);
  EXPECT_EQ(admin.call("POST", "/api/accounts", R"({"key": "probe"})").status, 409);

  EXPECT_EQ(admin.call("GET", "/api/accounts/nobody").status, 404);
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/routes/7").status, 404);
  EXPECT_EQ(admin.call("GET", "/api/nothing").status, 404);
  auto rollback = admin.call("POST", "/api/accounts/acct1/rollback", R"({"version": 99})");
  EXPECT_EQ(rollback.status, 404);
  EXPECT_EQ(admin.call("POST", "/api/accounts/acct1/rollback", R"({"versoin": 1})").status, 422);
  EXPECT_EQ(admin.stop(), 0);
}

// Every path of the OpenAPI document with a concrete value for each parameter.
std::string concrete(std::string path) {
  const std::pair<std::string, std::string> values[] = {{"{key}", "acct1"},
                                                        {"{name}", "contacts"},
                                                        {"{conversation_key}", "poll1"},
                                                        {"{tag}", "longcode:1001"},
                                                        {"{index}", "0"}};
  for (const auto& [from, to] : values) {
    auto at = path.find(from);
    if (at != std::string::npos) path.replace(at, from.size(), to);
  }
  return path;
}

TEST(AdminApi, OpenApiListsExactlyTheMethodsTheServerAnswers) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  seed_flow(admin, "x");
  auto doc = admin.call("GET", "/api/openapi.json", "", "");
  ASSERT_EQ(doc.status, 200);
  auto openapi = doc.json();
  EXPECT_EQ(openapi.at("openapi").as_string().subview().substr(0, 2), "3.");
  const std::vector<std::string> methods{"get", "put", "post", "delete", "patch"};
  std::size_t checked = 0;
  for (const auto& [path, item] : openapi.at("paths").as_object()) {
    std::string target = concrete(std::string(path));
    if (path == "/api/tokens/{name}") target = "/api/tokens/no-such-token";
    for (const auto& method : methods) {
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto result = admin.call(upper, target, "{}", kOperatorToken, if_match("\"0\""));
      if (item.as_object().contains(method)) {
        EXPECT_NE(result.status, 405) << upper << " " << target << ": " << result.body;
        EXPECT_EQ(result.body.find("no such resource"), std::string::npos) << upper << " " << target;
      } else {
        EXPECT_EQ(result.status, 405)
            << upper << " " << target << " answers but is not in the document: " << result.body;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 90u);
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, EveryApiRouteNeedsATokenAndAnAccountTokenReachesOnlyItsAccount) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  seed_flow(admin, "x");
  ASSERT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct2"})").status, 201);
  auto token = admin.call("POST", "/api/tokens", R"({"name": "acct2-editor", "account": "acct2"})");
  ASSERT_EQ(token.status, 201) << token.body;
  const std::string acct2_token(token.json().at("token").as_string());
  EXPECT_EQ(admin.call("POST", "/api/tokens", R"({"name": "acct2-editor", "account": "acct2"})").status, 409);

  auto doc = admin.call("GET", "/api/openapi.json", "", "").json();
  std::size_t checked = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    const bool api = path.starts_with("/api/") && path != "/api/openapi.json";
    const std::string target = concrete(std::string(path));
    for (const auto& [method, operation] : item.as_object()) {
      if (method == "parameters") continue;
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto anonymous = admin.call(upper, target, "{}", "");
      auto wrong = admin.call(upper, target, "{}", "not-a-token-at-all");
      if (!api) {
        EXPECT_NE(anonymous.status, 401) << upper << " " << target;
        continue;
      }
      EXPECT_EQ(anonymous.status, 401) << upper << " " << target << ": " << anonymous.body;
      EXPECT_EQ(wrong.status, 401) << upper << " " << target;
      // acct2's token on acct1's resources (and on operator-only ones): 403.
      if (path.starts_with("/api/accounts/{key}") || path.starts_with("/api/tokens")) {
        auto other = admin.call(upper, target, "{}", acct2_token, if_match("\"0\""));
        EXPECT_EQ(other.status, 403) << upper << " " << target << ": " << other.body;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 25u);

  // Its own account: allowed, and the history names the token.
  auto own = admin.call("PUT", "/api/accounts/acct2/conversations/c9", R"("survey")", acct2_token,
                        if_match(admin.call("GET", "/api/accounts/acct2", "", acct2_token).etag()));
  EXPECT_EQ(own.status, 201) << own.body;  // a new conversation
  auto history = admin.call("GET", "/api/accounts/acct2/history", "", acct2_token);
  EXPECT_EQ(history.json().at("versions").as_array()[0].at("token").as_string(), "acct2-editor");
  auto listed = admin.call("GET", "/api/accounts", "", acct2_token).json().at("accounts").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("key").as_string(), "acct2");
  EXPECT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct3"})", acct2_token).status, 403);
  EXPECT_EQ(admin.call("DELETE", "/api/accounts/acct2", "", acct2_token).status, 403);

  // Revoked: 401 from the next request on.
  EXPECT_EQ(admin.call("DELETE", "/api/tokens/acct2-editor").status, 204);
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct2", "", acct2_token).status, 401);
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, TokensCommandCreatesATokenTheRunningDaemonAccepts) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  ASSERT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct5"})").status, 201);
  ChildProcess create({VUMI_DISPATCHER_EXE, "tokens", "create", "-c", admin.config().string(), "--name",
                       "cli-made", "--account", "acct5"});
  ASSERT_EQ(create.wait_exit(30s), 0) << create.output();
  std::string secret;
  for (const auto& line : create.lines())
    if (line.starts_with("vdt_")) secret = line;
  ASSERT_EQ(secret.size(), 68u) << create.output();
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct5", "", secret).status, 200);
  EXPECT_EQ(admin.call("GET", "/api/accounts/probe", "", secret).status, 403);
  ChildProcess list({VUMI_DISPATCHER_EXE, "tokens", "list", "-c", admin.config().string()});
  ASSERT_EQ(list.wait_exit(30s), 0);
  EXPECT_NE(list.output().find("cli-made\taccount=acct5"), std::string::npos) << list.output();
  EXPECT_EQ(list.output().find(secret), std::string::npos);  // only the hash is kept
  ChildProcess revoke(
      {VUMI_DISPATCHER_EXE, "tokens", "revoke", "-c", admin.config().string(), "--name", "cli-made"});
  ASSERT_EQ(revoke.wait_exit(30s), 0);
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct5", "", secret).status, 401);
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, AGroupReadableTokenFileRefusesTheStart) {
  testing::TempDir dir;
  auto token = dir.write("token", kOperatorToken + "\n");
  ::chmod(token.c_str(), 0640);
  auto cfg = dir.write("config.json",
                       R"({"ingest": {"bind": "tcp://127.0.0.1:0"}, "outbound": {"bind": "tcp://127.0.0.1:*"},
      "state_dir": ")" + (dir.path() / "state").string() +
                           R"(", "plugin_path": [")" VUMI_PLUGIN_DIR R"("],
      "admin": {"bind": "127.0.0.1:0", "token_file": ")" +
                           token.string() + R"("}})");
  ChildProcess run({VUMI_DISPATCHER_EXE, "run", "-c", cfg.string()});
  EXPECT_EQ(run.wait_exit(30s), 1);
  EXPECT_NE(run.output().find("has mode 0640: group or others may read it; chmod 600 it"), std::string::npos)
      << run.output();
}

TEST(AdminApi, AChangeToOneAccountDoesNotDisturbAFloodOnAnother) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  Wire wire(admin.daemon());
  seed_flow(admin, "x");  // acct1 is the one being changed
  ASSERT_EQ(admin
                .call("POST", "/api/accounts", R"({"key": "busy", "conversations": {"poll1": "vxpolls"},
      "handlers": {"sms": {"type": "send_sms", "options": {"transport_name": "busy_transport"}}},
      "routes": [{"on": {"event_type": "poll_complete"},
                  "chain": [{"handler": "sms", "config": {"to_addr": "{{/event/event_data/from_addr}}", "content": "ok"}}]}]})")
                .status,
            201);
  constexpr int kFlood = 2000;
  std::thread flood([&] {
    for (int i = 0; i < kFlood; ++i)
      wire.pub->send("event.busy.vxpolls.poll_complete",
                     poll_complete("busy", "+1" + std::to_string(i), "n"));
  });
  int changes = 0;
  for (int i = 0; i < 30; ++i) {
    auto current = admin.call("GET", "/api/accounts/acct1/conversations/poll1");
    auto put = admin.call("PUT", "/api/accounts/acct1/conversations/extra", R"("survey")", kOperatorToken,
                          if_match(current.etag()));
    if (put.status == 201) ++changes;
    auto del = admin.call("DELETE", "/api/accounts/acct1/conversations/extra", "", kOperatorToken,
                          if_match(put.etag()));
    if (del.status == 204) ++changes;
  }
  flood.join();
  EXPECT_EQ(changes, 60);
  std::set<std::string> seen;
  while (seen.size() < kFlood) {
    auto got = wire.next(10s);
    if (!got) break;
    EXPECT_EQ(got->topic, "outbound.busy_transport");
    seen.insert(std::string(bj::parse(got->body).at("to_addr").as_string()));
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kFlood));
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, MetricsParseAsPrometheusTextWithPluginCountersLabelled) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  seed_flow(admin, "hi");
  // No outbound subscriber yet: the SMS waits in the outbox (its start window), and the gauge says so.
  std::string held;
  {
    zmq::context_t context(1);
    transport::WorkerPublisher early(context, admin.daemon().ingest);
    ASSERT_TRUE(early.wait_for_subscriptions({"event."}, 10s));
    ASSERT_TRUE(
        early.send("event.acct1.vxpolls.poll_complete", poll_complete("acct1", "+27820009998", "Early")));
    for (int i = 0; i < 100 && held.find("\nvumi_outbox_unsent 1\n") == std::string::npos; ++i) {
      std::this_thread::sleep_for(50ms);
      held = admin.call("GET", "/metrics", "", "").body;
    }
    ASSERT_NE(held.find("\nvumi_outbox_unsent 1\n"), std::string::npos) << held;
  }
  auto held_file = admin.dir().write("held.txt", held);
  Wire wire(admin.daemon());
  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820009999", "Mo"));
  ASSERT_TRUE(wire.next());
  auto health = admin.call("GET", "/healthz", "", "");
  EXPECT_EQ(health.status, 200);
  auto metrics = admin.call("GET", "/metrics", "", "");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  auto text = admin.dir().write("metrics.txt", metrics.body);
  auto script = admin.dir().write("parse.py", R"(import sys
from prometheus_client.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
for name in ["vumi_messages_received", "vumi_messages_rejected", "vumi_chains_run", "vumi_chains_failed",
             "vumi_step_duration_seconds", "vumi_outbound_sent", "vumi_outbound_undeliverable"]:
    assert name in families, name + " missing"
steps = [s for s in families["vumi_step_duration_seconds"].samples
         if s.name == "vumi_step_duration_seconds_count" and s.labels["handler_type"] == "send_sms"]
assert steps and steps[0].value >= 1, steps
buckets = [s for s in families["vumi_step_duration_seconds"].samples
           if s.name == "vumi_step_duration_seconds_bucket" and s.labels["handler_type"] == "send_sms"]
finite = [s.value for s in buckets if s.labels["le"] != "+Inf"]
assert len(finite) == 11 and finite == sorted(finite), buckets  # each counts the steps <= its bound
assert [s.value for s in buckets if s.labels["le"] == "+Inf"] == [steps[0].value], buckets
assert families["vumi_chains_run"].type == "counter"
for name in ["vumi_ingest_held_messages", "vumi_retries_pending", "vumi_outbox_unsent"]:
    assert families[name].type == "gauge", name
    assert families[name].samples[0].value == 0, (name, families[name].samples)
held = {f.name: f for f in text_string_to_metric_families(open(sys.argv[2]).read())}
assert held["vumi_outbox_unsent"].samples[0].value == 1, held["vumi_outbox_unsent"].samples
print("parsed", len(families), "families")
)");
  ChildProcess python({"/usr/bin/python3", script.string(), text.string(), held_file.string()});
  EXPECT_EQ(python.wait_exit(30s), 0) << python.output() << metrics.body;
  EXPECT_NE(python.output().find("parsed"), std::string::npos);
  EXPECT_EQ(admin.stop(), 0);
}

}  // namespace
}  // namespace vumi

namespace vumi {
namespace {

TEST(AdminApi, DryRunReportsEveryStepAndDoesNothing) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  Wire wire(admin.daemon());
  seed_flow(admin, "Hi {{/steps/contact/name}}");
  auto report = admin.call("POST", "/api/accounts/acct1/routes/test",
                           R"({"event": )" + poll_complete("acct1", "+27829990000", "Dry") + "}");
  ASSERT_EQ(report.status, 200) << report.body;
  auto json = report.json();
  auto routes = json.at("routes").as_array();
  ASSERT_EQ(routes.size(), 1u) << report.body;
  EXPECT_EQ(routes[0].at("route").as_string(), "accounts.acct1.routes[0]");
  EXPECT_TRUE(routes[0].at("ok").as_bool());
  auto steps = routes[0].at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at("config").at("fields").at("msisdn").as_string(), "+27829990000");
  EXPECT_EQ(steps[0].at("output").at("msisdn").as_string(), "+27829990000");
  EXPECT_EQ(steps[0].at("result").as_string(), "continue");
  EXPECT_EQ(steps[1].at("config").at("content").as_string(), "Hi Dry");
  auto published = json.at("effects").at("published").as_array();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].at("topic").as_string(), "outbound.sms_transport");
  EXPECT_EQ(json.at("effects").at("contacts_upserted").as_array().size(), 1u);

  // Nothing went out: the probe's pong (sent after) is the next outbound message.
  wire.send("probe", "survey", "ping", probe_ping());
  auto next = wire.sub->receive(10s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->topic, "outbound.probe");
  ChildProcess contacts(
      {VUMI_DISPATCHER_EXE, "contacts", "-c", admin.config().string(), "--account", "acct1", "--json"});
  ASSERT_EQ(contacts.wait_exit(30s), 0);
  EXPECT_EQ(contacts.output().find("+27829990000"), std::string::npos) << contacts.output();

  // A real event shows in the runs and can be replayed as a dry run by its id.
  std::string event = poll_complete("acct1", "+27829990001", "Real");
  event.insert(1, R"("event_id": "evt-real-1", )");
  wire.send("acct1", "vxpolls", "poll_complete", event);
  ASSERT_TRUE(wire.next());
  auto failing = poll_complete("acct1", "+27829990002", "x");
  failing.replace(failing.find("from_addr"), 9, "from_adr");  // the template's pointer finds nothing
  failing.insert(1, R"("event_id": "evt-bad-1", )");
  wire.send("acct1", "vxpolls", "poll_complete", failing);
  wire.send("probe", "survey", "ping", probe_ping());
  ASSERT_TRUE(wire.sub->receive(10s));  // the sentinel: both events are handled

  auto runs = admin.call("GET", "/api/accounts/acct1/runs");
  ASSERT_EQ(runs.status, 200);
  auto list = runs.json().at("runs").as_array();
  ASSERT_EQ(list.size(), 2u) << runs.body;
  EXPECT_EQ(list[0].at("event_id").as_string(), "evt-bad-1");
  EXPECT_EQ(list[0].at("status").as_string(), "failed");
  EXPECT_NE(std::string(list[0].at("routes").as_array()[0].at("steps").as_array()[0].at("error").as_string())
                .find("template"),
            std::string::npos);
  EXPECT_EQ(list[1].at("status").as_string(), "ok");
  EXPECT_EQ(list[1].at("routes").as_array()[0].at("steps").as_array().size(), 2u);
  auto failed = admin.call("GET", "/api/accounts/acct1/runs?status=failed").json().at("runs").as_array();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/runs?status=maybe").status, 400);
  auto by_id = admin.call("POST", "/api/accounts/acct1/routes/test", R"({"event_id": "evt-real-1"})");
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(by_id.json()
                .at("routes")
                .as_array()[0]
                .at("steps")
                .as_array()[1]
                .at("config")
                .at("content")
                .as_string(),
            "Hi Real");
  EXPECT_EQ(admin.call("POST", "/api/accounts/acct1/routes/test", R"({"event_id": "nope"})").status, 404);
  EXPECT_EQ(admin.call("POST", "/api/accounts/acct1/routes/test", R"({"evnt": {}})").status, 422);
  auto other_account = admin.call("POST", "/api/accounts/acct1/routes/test",
                                  R"({"event": )" + poll_complete("probe", "+1", "x") + "}");
  EXPECT_EQ(other_account.status, 422);

  auto dead = admin.call("GET", "/api/accounts/acct1/dead-letters");
  ASSERT_EQ(dead.status, 200);
  auto letters = dead.json().at("dead_letters").as_array();
  ASSERT_EQ(letters.size(), 1u) << dead.body;  // the failed real event; none from the dry runs
  EXPECT_EQ(letters[0].at("reason").as_string(), "step_failed");
  EXPECT_EQ(admin.stop(), 0);
}

TEST(AdminApi, ExplainCommandPrintsTheDryRunOfAConfigFile) {
  testing::TempDir dir;
  auto cfg = dir.write("config.json", R"({"state_dir": ")" + (dir.path() / "state").string() +
                                          R"(", "plugin_path": [")" VUMI_PLUGIN_DIR R"("], "admin": null,
      "handlers": {"sms": {"type": "send_sms", "options": {"transport_name": "t"}}},
      "accounts": {"acct1": {"conversations": {"poll1": "vxpolls"}, "routes": [{"on": {"event_type": "poll_complete"},
        "chain": [{"handler": "sms", "config": {"to_addr": "{{/event/event_data/from_addr}}", "content": "x"}}]}]}}})");
  auto event = dir.write("event.json", poll_complete("acct1", "+27820000111", "E"));
  ChildProcess explain({VUMI_DISPATCHER_EXE, "explain", "-c", cfg.string(), "--event", event.string()});
  ASSERT_EQ(explain.wait_exit(30s), 0) << explain.output();
  auto report = bj::parse(explain.lines().at(0));
  EXPECT_EQ(
      report.at("routes").as_array()[0].at("steps").as_array()[0].at("config").at("to_addr").as_string(),
      "+27820000111");
  EXPECT_EQ(report.at("effects").at("published").as_array()[0].at("topic").as_string(), "outbound.t");
  auto bad = dir.write("bad.json", R"({"account_key": "nobody", "event_type": "x"})");
  ChildProcess refused({VUMI_DISPATCHER_EXE, "explain", "-c", cfg.string(), "--event", bad.string()});
  EXPECT_EQ(refused.wait_exit(30s), 1);
  EXPECT_NE(refused.output().find("explain: "), std::string::npos);
}

TEST(AdminApi, ReloadKeepsTheApiAccountsAndBuildsAside) {
  AdminDaemon admin(kProbeAccounts, kProbeHandlers);
  Wire wire(admin.daemon());
  seed_flow(admin, "before reload");
  // The file gains an account; SIGHUP builds the new runtime on its own thread and swaps it in.
  std::string text;
  {
    std::ifstream in(admin.config());
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  text.replace(text.find(R"("probe": {)"), 10, R"("fresh": {"conversations": {"c": "survey"}}, "probe": {)");
  std::ofstream(admin.config()) << text;
  std::size_t cursor = admin.daemon().process().lines().size();
  admin.daemon().process().signal(SIGHUP);
  ASSERT_TRUE(admin.daemon().process().wait_for_line("reload: config from", 30s, &cursor))
      << admin.daemon().process().output();
  EXPECT_EQ(admin.call("GET", "/api/accounts/fresh").json().at("source").as_string(), "file");
  auto kept = admin.call("GET", "/api/accounts/acct1");
  EXPECT_EQ(kept.status, 200);
  EXPECT_EQ(kept.etag(), "\"4\"");
  wire.send("acct1", "vxpolls", "poll_complete", poll_complete("acct1", "+27820001006", "Fe"));
  auto sms = wire.next();
  ASSERT_TRUE(sms);
  EXPECT_EQ(bj::parse(sms->body).at("content").as_string(), "before reload");
  EXPECT_EQ(admin.stop(), 0);
}

}  // namespace
}  // namespace vumi

namespace vumi {
namespace {

TEST(AdminApi, ConfigKeysAreCheckedLikeEveryOther) {
  testing::TempDir dir;
  auto check = [&](const std::string& admin) {
    auto cfg =
        dir.write("config.json", R"({"plugin_path": [")" VUMI_PLUGIN_DIR R"("], "admin": )" + admin + "}");
    ChildProcess run({VUMI_DISPATCHER_EXE, "check", "-c", cfg.string()});
    run.wait_exit(30s);
    return run.output();
  };
  EXPECT_NE(check(R"({"bind": "0.0.0.0:7712"})").find("admin.bind: \"0.0.0.0:7712\" is beyond loopback"),
            std::string::npos);
  EXPECT_NE(check(R"({"bind": "127.0.0.1"})").find("admin.bind: \"127.0.0.1\" is not \"host:port\""),
            std::string::npos);
  EXPECT_NE(check(R"({"bnd": "127.0.0.1:1"})").find(R"(admin: unknown key "bnd")"), std::string::npos);
  EXPECT_NE(check(R"({"public_metrics": 1})").find("admin.public_metrics: expected boolean, got integer"),
            std::string::npos);
  EXPECT_NE(check("null").find("config OK"), std::string::npos);
}

}  // namespace
}  // namespace vumi
