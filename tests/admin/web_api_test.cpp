// What the web page needs from the daemon: its files at / with their content types, a sample event
// of a type from the run history, a dry run of a draft document, and routes[].enabled.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "admin_client.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using testing::AdminDaemon;
using testing::kOperatorToken;

const std::string kAccount = R"({"key": "acct1", "conversations": {"poll1": "vxpolls"},
  "handlers": {"contacts": {"type": "create_contact"},
               "sms": {"type": "send_sms", "options": {"transport_name": "sms_transport"}}},
  "routes": [{"on": {"conversation_key": "poll1", "event_type": "poll_complete"},
              "chain": [{"handler": "contacts", "as": "contact",
                         "config": {"fields": {"msisdn": "{{/event/event_data/from_addr}}"}}},
                        {"handler": "sms", "config": {"to_addr": "{{/steps/contact/msisdn}}", "content": "hi"}}]}]})";

std::string poll_complete(const std::string& msisdn) {
  return R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls","event_type":"poll_complete","event_data":{"from_addr":")" +
         msisdn + R"("}})";
}

// The route a GET answered, as a PUT body (without the read-only "index") with "enabled" set.
bj::object writable_route(const testing::HttpResult& route, bool enabled) {
  bj::object body = route.json().as_object();
  body.erase("index");
  body["enabled"] = enabled;
  return body;
}

TEST(WebPage, FilesAreServedAtTheRootWithTheirTypesAndNoToken) {
  AdminDaemon admin;
  auto index = admin.call("GET", "/", "", "");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<script type=\"module\" src=\"/app.js\">"), std::string::npos);
  EXPECT_NE(index.headers["content-security-policy"].find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(index.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(admin.call("GET", "/index.html", "", "").body, index.body);

  const std::map<std::string, std::string> types{{"/app.js", "text/javascript; charset=utf-8"},
                                                 {"/flow.js", "text/javascript; charset=utf-8"},
                                                 {"/style.css", "text/css; charset=utf-8"},
                                                 {"/favicon.svg", "image/svg+xml"}};
  for (const auto& [path, type] : types) {
    auto file = admin.call("GET", path + "?v=1", "", "");
    EXPECT_EQ(file.status, 200) << path;
    EXPECT_EQ(file.headers["content-type"], type) << path;
    EXPECT_FALSE(file.body.empty()) << path;
  }
  // Nothing else answers outside /api: no directory listing, no file from disk.
  EXPECT_EQ(admin.call("GET", "/nope.js", "", "").status, 404);
  EXPECT_EQ(admin.call("GET", "/../CMakeLists.txt", "", "").status, 404);
  EXPECT_EQ(admin.call("POST", "/", "{}", "").status, 404);
  EXPECT_EQ(admin.stop(), 0);
}

TEST(WebPage, SampleEventIsTheNewestKeptEventOfTheType) {
  AdminDaemon admin;
  ASSERT_EQ(admin.call("POST", "/api/accounts", kAccount).status, 201);
  auto none = admin.call("GET", "/api/accounts/acct1/sample-event?event_type=poll_complete");
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_NE(none.body.find("no recent poll_complete event"), std::string::npos) << none.body;
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/sample-event").status, 400);

  zmq::context_t context{1};
  transport::WorkerPublisher pub(context, admin.daemon().ingest);
  ASSERT_TRUE(pub.wait_for_subscriptions({"event."}, 10s));
  ASSERT_TRUE(pub.send("event.acct1.vxpolls.poll_complete", poll_complete("+27820000001")));
  ASSERT_TRUE(pub.send("event.acct1.vxpolls.poll_complete", poll_complete("+27820000002")));
  // Both have run when the second is in the history (runs are recorded in order).
  testing::HttpResult sample;
  for (int i = 0; i < 200; ++i) {
    sample =
        admin.call("GET", "/api/accounts/acct1/sample-event?event_type=poll_complete&conversation_key=poll1");
    if (sample.status == 200 && sample.body.find("+27820000002") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(sample.status, 200) << sample.body;
  auto body = sample.json();
  EXPECT_EQ(body.at("event").at("event_data").at("from_addr").as_string(), "+27820000002");
  EXPECT_FALSE(body.at("event_id").as_string().empty());
  EXPECT_EQ(
      admin.call("GET", "/api/accounts/acct1/sample-event?event_type=poll_complete&conversation_key=other")
          .status,
      404);
  EXPECT_EQ(admin.stop(), 0);
}

TEST(WebPage, DryRunOfADraftUsesItAndSavesNothing) {
  AdminDaemon admin;
  ASSERT_EQ(admin.call("POST", "/api/accounts", kAccount).status, 201);
  auto saved = admin.call("GET", "/api/accounts/acct1");
  bj::object draft = saved.json().as_object();
  draft.erase("key");
  draft.erase("source");
  draft.erase("version");
  // The draft sends "Draft text" where the saved route sends "hi", through a new handler.
  draft["handlers"].as_object()["sms2"] =
      bj::parse(R"({"type": "send_sms", "options": {"transport_name": "t2"}})");
  auto& step = draft["routes"].as_array()[0].as_object()["chain"].as_array()[1].as_object();
  step["handler"] = "sms2";
  step["config"].as_object()["content"] = "Draft text";
  const std::string event = poll_complete("+27820000003");

  auto report = admin.call("POST", "/api/accounts/acct1/routes/test",
                           R"({"account": )" + bj::serialize(draft) + R"(, "event": )" + event + "}");
  ASSERT_EQ(report.status, 200) << report.body;
  const bj::value report_json = report.json();
  const auto& steps = report_json.at("routes").at(0).at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[1].at("config").at("content").as_string(), "Draft text");
  EXPECT_EQ(steps[1].at("config").at("to_addr").as_string(), "+27820000003");
  EXPECT_NE(report.body.find("outbound.t2"), std::string::npos) << report.body;

  // The saved account is unchanged, and its dry run still says "hi".
  auto after = admin.call("GET", "/api/accounts/acct1");
  EXPECT_EQ(after.etag(), saved.etag());
  auto plain = admin.call("POST", "/api/accounts/acct1/routes/test", R"({"event": )" + event + "}");
  EXPECT_EQ(plain.json().at("routes").at(0).at("steps").at(1).at("config").at("content").as_string(), "hi");

  // A draft that does not validate: each problem named under /account.
  step.erase("config");
  auto refused = admin.call("POST", "/api/accounts/acct1/routes/test",
                            R"({"account": )" + bj::serialize(draft) + R"(, "event": )" + event + "}");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find(R"("path":"/account/routes/0/chain/1/config")"), std::string::npos)
      << refused.body;
  EXPECT_NE(refused.body.find(R"(missing required key \"to_addr\")"), std::string::npos) << refused.body;
  EXPECT_EQ(admin.stop(), 0);
}

TEST(WebPage, ADisabledRouteIsKeptButMatchesNothing) {
  AdminDaemon admin;
  ASSERT_EQ(admin.call("POST", "/api/accounts", kAccount).status, 201);
  auto route = admin.call("GET", "/api/accounts/acct1/routes/0");
  bj::object disabled = writable_route(route, false);
  auto put = admin.call("PUT", "/api/accounts/acct1/routes/0", bj::serialize(disabled), kOperatorToken,
                        {{"If-Match", route.etag()}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/routes/0").json().at("enabled"), bj::value(false));

  const std::string event = R"({"event": )" + poll_complete("+27820000004") + "}";
  auto report = admin.call("POST", "/api/accounts/acct1/routes/test", event);
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_TRUE(report.json().at("routes").as_array().empty()) << report.body;

  disabled["enabled"] = "no";
  auto bad = admin.call("PUT", "/api/accounts/acct1/routes/0", bj::serialize(disabled), kOperatorToken,
                        {{"If-Match", put.etag()}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find(R"("path":"/routes/0/enabled")"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("expected boolean"), std::string::npos) << bad.body;

  disabled.erase("enabled");
  ASSERT_EQ(admin
                .call("PUT", "/api/accounts/acct1/routes/0", bj::serialize(disabled), kOperatorToken,
                      {{"If-Match", put.etag()}})
                .status,
            200);
  report = admin.call("POST", "/api/accounts/acct1/routes/test", event);
  EXPECT_EQ(report.json().at("routes").as_array().size(), 1u) << report.body;
  EXPECT_EQ(admin.stop(), 0);
}

// A route's own retry policy is part of the account document: reading it back shows it, and a change
// to another part of the account keeps it (it was dropped when the document was rebuilt).
TEST(WebPage, ARoutesRetryPolicySurvivesReadsAndOtherChanges) {
  AdminDaemon admin;
  bj::object account = bj::parse(kAccount).as_object();
  account["routes"].as_array().at(0).as_object()["retry"] = bj::object{{"max_attempts", 5}};
  ASSERT_EQ(admin.call("POST", "/api/accounts", bj::serialize(account)).status, 201);
  auto route = admin.call("GET", "/api/accounts/acct1/routes/0");
  ASSERT_EQ(route.status, 200) << route.body;
  EXPECT_EQ(route.json().at("retry"), (bj::object{{"max_attempts", 5}})) << route.body;

  bj::object disabled = writable_route(route, false);
  auto put = admin.call("PUT", "/api/accounts/acct1/routes/0", bj::serialize(disabled), kOperatorToken,
                        {{"If-Match", route.etag()}});
  ASSERT_EQ(put.status, 200) << put.body;
  auto after = admin.call("GET", "/api/accounts/acct1").json();
  EXPECT_EQ(after.at("routes").at(0).at("retry"), (bj::object{{"max_attempts", 5}})) << bj::serialize(after);
  EXPECT_EQ(admin.stop(), 0);
}

}  // namespace
}  // namespace vumi
