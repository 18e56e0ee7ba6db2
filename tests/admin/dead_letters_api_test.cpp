// Dead letters through the admin API: listed with filters, and replayed inside the daemon after the
// route that failed is fixed, exactly once; a dry run changes nothing.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin_client.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using testing::AdminDaemon;

std::string completed(const std::string& event_id) {
  return R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls","event_id":")" +
         event_id + R"(","event_type":"poll_complete","event_data":{"from_addr":"+27820001001"}})";
}

std::string ping(int n) {
  return R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls","event_id":"ping-)" +
         std::to_string(n) + R"(","event_type":"ping","event_data":{}})";
}

// The SMS route: to_addr from a template (wrong at first), and a sentinel route on "ping".
std::string sms_route(const std::string& to_addr) {
  return R"({"on": {"event_type": "poll_complete"}, "chain": [
             {"handler": "sms", "config": {"to_addr": ")" +
         to_addr + R"(", "content": "Thanks"}}]})";
}

struct Wire {
  zmq::context_t context{1};
  std::unique_ptr<transport::WorkerPublisher> pub;
  std::unique_ptr<transport::TopicSubscriber> sub;
  int pings = 0;

  explicit Wire(testing::Daemon& daemon) {
    pub = std::make_unique<transport::WorkerPublisher>(context, daemon.ingest);
    EXPECT_TRUE(pub->wait_for_subscriptions({"event."}, 10s));
    sub = std::make_unique<transport::TopicSubscriber>(context, daemon.outbound,
                                                       std::vector<std::string>{"outbound."});
  }
  // Sends pings until one comes back (the subscription has reached the daemon), then drains.
  bool connect() {
    for (int i = 0; i < 100; ++i) {
      pub->send("event.acct1.vxpolls.ping", ping(++pings));
      if (sub->receive(100ms)) {
        while (sub->receive(300ms)) {
        }
        return true;
      }
    }
    return false;
  }
  // The next SMS is the sentinel sent now: nothing sent before it is still on its way.
  ::testing::AssertionResult next_is_sentinel() {
    pub->send("event.acct1.vxpolls.ping", ping(++pings));
    auto got = sub->receive(15s);
    if (!got) return ::testing::AssertionFailure() << "no sentinel";
    if (bj::parse(got->body).at("content") != "sentinel")
      return ::testing::AssertionFailure() << "an SMS before the sentinel: " << got->body;
    return ::testing::AssertionSuccess();
  }
};

TEST(DeadLettersApi, AFixedRouteReplaysExactlyOnceThroughTheApiAndADryRunChangesNothing) {
  AdminDaemon admin;
  ASSERT_FALSE(admin.admin().empty()) << admin.daemon().process().output();
  ASSERT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct1", "conversations": {"poll1": "vxpolls"}})")
                .status,
            201);
  ASSERT_EQ(
      admin
          .call("POST", "/api/accounts/acct1/handlers",
                R"({"name": "sms", "type": "send_sms", "options": {"transport_name": "sms_transport"}})")
          .status,
      201);
  // Misconfigured: the events carry event_data.from_addr, not phone.
  ASSERT_EQ(admin.call("POST", "/api/accounts/acct1/routes", sms_route("{{/event/event_data/phone}}")).status,
            201);
  auto sentinel =
      admin.call("POST", "/api/accounts/acct1/routes", R"({"on": {"event_type": "ping"}, "chain": [
      {"handler": "sms", "config": {"to_addr": "+27000000000", "content": "sentinel"}}]})");
  ASSERT_EQ(sentinel.status, 201) << sentinel.body;
  Wire wire(admin.daemon());
  ASSERT_TRUE(wire.connect()) << admin.daemon().process().output();

  wire.pub->send("event.acct1.vxpolls.poll_complete", completed("evt-1"));
  ASSERT_TRUE(wire.next_is_sentinel());  // handled: it failed, no SMS
  auto listed = admin.call("GET", "/api/accounts/acct1/dead-letters?reason=step_failed");
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto letters = listed.json().at("dead_letters").as_array();
  ASSERT_EQ(letters.size(), 1u) << listed.body;
  const std::int64_t id = letters[0].at("id").as_int64();
  EXPECT_EQ(letters[0].at("replayed_at"), nullptr);
  EXPECT_EQ(letters[0].at("topic"), "event.acct1.vxpolls.poll_complete");
  EXPECT_NE(std::string(letters[0].at("source").as_string()).find("ingest tcp://127.0.0.1:"),
            std::string::npos);

  // Filters.
  EXPECT_TRUE(admin.call("GET", "/api/accounts/acct1/dead-letters?reason=unowned_tag")
                  .json()
                  .at("dead_letters")
                  .as_array()
                  .empty());
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/dead-letters?since=1h&limit=1")
                .json()
                .at("dead_letters")
                .as_array()
                .size(),
            1u);
  EXPECT_TRUE(admin.call("GET", "/api/accounts/acct1/dead-letters?since=2999-01-01T00:00:00Z")
                  .json()
                  .at("dead_letters")
                  .as_array()
                  .empty());
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/dead-letters?since=yesterday").status, 400);
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/dead-letters?limit=x").status, 400);

  // Bad requests.
  const std::string replay = "/api/accounts/acct1/dead-letters/replay";
  EXPECT_EQ(admin.call("POST", replay, "{").status, 400);
  EXPECT_EQ(admin.call("POST", replay, "{}").status, 422);
  EXPECT_EQ(admin.call("POST", replay, R"({"ids": []})").status, 422);
  EXPECT_EQ(admin.call("POST", replay, R"({"ids": [0]})").status, 422);
  EXPECT_EQ(admin.call("POST", replay, R"({"ids": [1], "reason": "step_failed"})").status, 422);
  auto unknown = admin.call("POST", replay, R"({"id": 1})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.json().at("errors").as_array()[0].at("path"), "/id");
  EXPECT_EQ(admin.call("POST", replay, R"({"ids": [1], "dry_run": "yes"})").status, 422);
  EXPECT_EQ(admin.call("GET", replay).status, 405);

  // Replayed before the fix it would only fail again; fix the route first (a new version, live).
  auto account = admin.call("GET", "/api/accounts/acct1");
  auto fixed = admin.call("PUT", "/api/accounts/acct1/routes/0", sms_route("{{/event/event_data/from_addr}}"),
                          testing::kOperatorToken, {{"If-Match", account.etag()}});
  ASSERT_EQ(fixed.status, 200) << fixed.body;

  // A dry run: says what it would replay, and changes nothing.
  const std::string ids = R"({"ids": [)" + std::to_string(id) + R"(, 999999]})";
  auto dry = admin.call("POST", replay, ids.substr(0, ids.size() - 1) + R"(, "dry_run": true})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.json().at("replayed"), bj::parse("[" + std::to_string(id) + "]")) << dry.body;
  ASSERT_EQ(dry.json().at("skipped").as_array().size(), 1u);
  EXPECT_EQ(dry.json().at("skipped").as_array()[0].at("id"), 999999);
  EXPECT_NE(
      std::string(dry.json().at("skipped").as_array()[0].at("why").as_string()).find("no dead letter 999999"),
      std::string::npos);
  ASSERT_TRUE(wire.next_is_sentinel());
  EXPECT_EQ(admin.call("GET", "/api/accounts/acct1/dead-letters")
                .json()
                .at("dead_letters")
                .as_array()[0]
                .at("replayed_at"),
            nullptr);
  // The ledger still has the event: sent again, it is a duplicate and does not run.
  wire.pub->send("event.acct1.vxpolls.poll_complete", completed("evt-1"));
  ASSERT_TRUE(wire.next_is_sentinel());

  // Replayed: the fixed chain runs once and the letter is marked.
  auto done = admin.call("POST", replay, ids);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.json().at("replayed"), bj::parse("[" + std::to_string(id) + "]")) << done.body;
  EXPECT_EQ(done.json().at("skipped").as_array().size(), 1u);
  auto sms = wire.sub->receive(15s);
  ASSERT_TRUE(sms) << admin.daemon().process().output();
  EXPECT_EQ(bj::parse(sms->body).at("to_addr"), "+27820001001");
  EXPECT_EQ(bj::parse(sms->body).at("content"), "Thanks");
  auto after = admin.call("GET", "/api/accounts/acct1/dead-letters").json().at("dead_letters").as_array();
  ASSERT_EQ(after.size(), 1u);  // it did not fail again
  EXPECT_TRUE(after[0].at("replayed_at").is_string());

  // Exactly once: again by id it is skipped, by reason nothing matches, the original event is a
  // duplicate, and the sentinel is the next SMS.
  auto again = admin.call("POST", replay, ids);
  ASSERT_EQ(again.status, 200);
  EXPECT_TRUE(again.json().at("replayed").as_array().empty());
  EXPECT_NE(bj::serialize(again.json().at("skipped")).find("already replayed"), std::string::npos)
      << again.body;
  auto by_reason = admin.call("POST", replay, R"({"reason": "step_failed", "since": "1h"})");
  ASSERT_EQ(by_reason.status, 200) << by_reason.body;
  EXPECT_EQ(by_reason.json(), bj::parse(R"({"replayed": [], "skipped": []})"));
  wire.pub->send("event.acct1.vxpolls.poll_complete", completed("evt-1"));
  ASSERT_TRUE(wire.next_is_sentinel());

  // Another account's token cannot replay acct1's letters.
  ASSERT_EQ(admin.call("POST", "/api/accounts", R"({"key": "acct2"})").status, 201);
  auto token = admin.call("POST", "/api/tokens", R"({"name": "acct2-ops", "account": "acct2"})");
  ASSERT_EQ(token.status, 201);
  const std::string acct2_token(token.json().at("token").as_string());
  EXPECT_EQ(admin.call("POST", replay, ids, acct2_token).status, 403);
  EXPECT_EQ(admin.call("POST", replay, ids, "").status, 401);
  // acct2's own: the letter is not there.
  auto own = admin.call("POST", "/api/accounts/acct2/dead-letters/replay", ids, acct2_token);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.json().at("skipped").as_array().size(), 2u);
  EXPECT_EQ(admin.stop(), 0);
}

}  // namespace
}  // namespace vumi
