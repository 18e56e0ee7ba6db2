#include "dispatch/route_index.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <thread>
#include <vector>

#include "config/config.hpp"

namespace vumi::dispatch {
namespace {

// A route on (conversation_type, conversation_key, event_type); "" matches any.
config::RouteSpec route(std::string ct, std::string ck, std::string et) {
  config::RouteSpec r;
  static config::NameTable names;  // outlives the test's specs
  r.on = {names.intern(ct), std::move(ck), names.intern(et)};
  return r;
}

// The paths of an account's routes at these positions.
std::vector<std::string> route_paths(std::string_view account, std::initializer_list<std::size_t> positions) {
  std::vector<std::string> paths;
  for (std::size_t i : positions) paths.push_back(config::route_path(account, i));
  return paths;
}

std::vector<std::string> matched_paths(const RouteIndex& index, std::string_view account, std::string_view ct,
                                       std::string_view ck, std::string_view et) {
  std::vector<const Route*> out;
  std::vector<std::string> paths;
  const Account* acct = index.account(account);
  if (!acct) return paths;
  index.match(*acct, ct, ck, et, out);
  for (const Route* r : out) paths.push_back(config::route_path(acct->key, r->order));
  return paths;
}

TEST(RouteIndex, WildcardsMatchAnyValueAndResultsKeepConfigOrder) {
  config::Config cfg;
  config::AccountSpec acct;
  acct.key = "acct1";
  acct.conversations = {{"poll1", "vxpolls"}};
  acct.tags = {"longcode:12345"};
  acct.routes.push_back(route("", "", "poll_complete"));
  acct.routes.push_back(route("vxpolls", "poll1", "poll_complete"));
  acct.routes.push_back(route("", "", ""));
  acct.routes.push_back(route("vxpolls", "poll2", ""));
  acct.routes.push_back(route("survey", "", "poll_complete"));
  cfg.accounts.push_back(acct);
  StringMap<std::unique_ptr<plugin::HandlerInstance>> none;
  RouteIndex index(cfg, none);

  EXPECT_EQ(matched_paths(index, "acct1", "vxpolls", "poll1", "poll_complete"),
            route_paths("acct1", {0, 1, 2}));
  EXPECT_EQ(matched_paths(index, "acct1", "vxpolls", "poll2", "opted_out"), route_paths("acct1", {2, 3}));
  EXPECT_EQ(matched_paths(index, "acct1", "survey", "s1", "poll_complete"), route_paths("acct1", {0, 2, 4}));
  EXPECT_TRUE(matched_paths(index, "nobody", "vxpolls", "poll1", "poll_complete").empty());
  // A pending retry names its route by path, as stored by this or an earlier build.
  const Account* acct1 = index.account("acct1");
  ASSERT_NE(acct1, nullptr);
  const Route* third = index.route_at_path(*acct1, "accounts.acct1.routes[2]");
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->order, 2u);
  EXPECT_EQ(index.route_at_path(*acct1, "accounts.acct1.routes[5]"), nullptr);
  EXPECT_EQ(index.route_at_path(*acct1, "accounts.acct2.routes[2]"), nullptr);
  ASSERT_NE(index.tag_owner("longcode:12345"), nullptr);
  EXPECT_EQ(index.tag_owner("longcode:12345")->key, "acct1");
  EXPECT_EQ(index.tag_owner("longcode:1"), nullptr);
  EXPECT_EQ(index.conversation_type("acct1", "poll1"), std::optional<std::string_view>("vxpolls"));
  EXPECT_EQ(index.conversation_type("acct1", "nope"), std::nullopt);
  EXPECT_TRUE(index.has_account("acct1"));
  EXPECT_FALSE(index.has_account("acct2"));
}

// Up to AccountRoutes::kScannedRoutes routes an account's routes are compared in turn, past it
// they are indexed by key: both must match exactly what the routes say, in config order.
TEST(RouteIndex, ScannedAndIndexedAccountsMatchTheSameRoutesInConfigOrder) {
  const std::vector<std::string> types{"", "vxpolls", "survey"};
  const std::vector<std::string> keys{"", "poll1", "poll2"};
  const std::vector<std::string> events{"", "poll_complete", "opted_out"};
  std::vector<config::RouteSpec> all;
  for (std::size_t i = 0; i < 14; ++i)  // every shape of wildcard, some twice
    all.push_back(route(types[i % 3], keys[(i / 3) % 3], events[(i * 7 + 1) % 3]));
  all[5].enabled = false;
  config::Config cfg;
  for (std::size_t count :
       {std::size_t{3}, AccountRoutes::kScannedRoutes, AccountRoutes::kScannedRoutes + 1, all.size()}) {
    config::AccountSpec acct;
    acct.key = "a" + std::to_string(count);
    acct.routes.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count));
    cfg.accounts.push_back(acct);
  }
  StringMap<std::unique_ptr<plugin::HandlerInstance>> none;
  RouteIndex index(cfg, none);

  const auto wanted = [](std::string_view on, std::string_view value) { return on.empty() || on == value; };
  int checked = 0;
  for (const config::AccountSpec& acct : cfg.accounts) {
    for (std::string_view type : {"vxpolls", "survey", "bulk"}) {
      for (std::string_view key : {"poll1", "poll2", "poll3"}) {
        for (std::string_view event : {"poll_complete", "opted_out", "other"}) {
          std::vector<std::string> expected;
          for (std::size_t i = 0; i < acct.routes.size(); ++i) {
            const config::RouteSpec& r = acct.routes[i];
            if (r.enabled && wanted(r.on.conversation_type, type) && wanted(r.on.conversation_key, key) &&
                wanted(r.on.event_type, event))
              expected.push_back(config::route_path(acct.key, i));
          }
          EXPECT_EQ(matched_paths(index, acct.key, type, key, event), expected)
              << acct.key << " " << type << " " << key << " " << event;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 27);
}

TEST(RouteIndex, AnAccountsContextIsBuiltOnFirstUseOnceWhicheverThreadsAsk) {
  config::Config cfg;
  config::AccountSpec acct;
  acct.key = "acct1";
  acct.conversations = {{"survey1", "surveys"}, {"poll1", "vxpolls"}, {"b", "bulk"}};
  acct.tags = {"longcode:12345", "ussd:*120#"};
  cfg.accounts.push_back(acct);
  StringMap<std::unique_ptr<plugin::HandlerInstance>> none;
  RouteIndex index(cfg, none);
  const Account* account = index.account("acct1");
  ASSERT_NE(account, nullptr);

  // Four threads ask at once: one builds, all see the same object (TSan/ASan would flag a race).
  std::vector<const boost::json::value*> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] { seen[i] = &account->context(); });
  for (auto& t : threads) t.join();
  for (const auto* value : seen) EXPECT_EQ(value, &account->context());

  // Conversations in key order, whatever the hash map's order; the text is the same document.
  const std::string expected =
      R"({"key":"acct1","conversations":{"b":"bulk","poll1":"vxpolls","survey1":"surveys"},)"
      R"("tags":["longcode:12345","ussd:*120#"]})";
  EXPECT_EQ(account->context_json(), expected);
  EXPECT_EQ(boost::json::serialize(account->context()), expected);
}

TEST(RouteIndex, ManyAccountsEachFindOnlyTheirOwnRoutes) {
  config::Config cfg;
  for (int i = 0; i < 10000; ++i) {
    config::AccountSpec acct;
    acct.key = "acct" + std::to_string(i);
    acct.routes.push_back(route("vxpolls", "poll" + std::to_string(i), "poll_complete"));
    cfg.accounts.push_back(std::move(acct));
  }
  StringMap<std::unique_ptr<plugin::HandlerInstance>> none;
  RouteIndex index(cfg, none);
  EXPECT_EQ(index.route_count(), 10000u);
  EXPECT_EQ(matched_paths(index, "acct7777", "vxpolls", "poll7777", "poll_complete"),
            (std::vector<std::string>{"accounts.acct7777.routes[0]"}));
  EXPECT_TRUE(matched_paths(index, "acct7777", "vxpolls", "poll7778", "poll_complete").empty());
}

}  // namespace
}  // namespace vumi::dispatch
