#include "dispatch/route_index.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <thread>
#include <vector>

#include "config/config.hpp"

namespace vumi::dispatch {
namespace {

config::RouteSpec route(std::optional<std::string> ct, std::optional<std::string> ck,
                        std::optional<std::string> et, std::string path) {
  config::RouteSpec r;
  r.on = {std::move(ct), std::move(ck), std::move(et)};
  r.path = std::move(path);
  return r;
}

std::vector<std::string> matched_paths(const RouteIndex& index, std::string_view account, std::string_view ct,
                                       std::string_view ck, std::string_view et) {
  std::vector<const Route*> out;
  std::vector<std::string> paths;
  const Account* acct = index.account(account);
  if (!acct) return paths;
  index.match(*acct, ct, ck, et, out);
  for (const Route* r : out) paths.push_back(r->spec->path);
  return paths;
}

TEST(RouteIndex, WildcardsMatchAnyValueAndResultsKeepConfigOrder) {
  config::Config cfg;
  config::AccountSpec acct;
  acct.key = "acct1";
  acct.conversations = {{"poll1", "vxpolls"}};
  acct.tags = {"longcode:12345"};
  acct.routes.push_back(route(std::nullopt, std::nullopt, "poll_complete", "r0"));
  acct.routes.push_back(route("vxpolls", "poll1", "poll_complete", "r1"));
  acct.routes.push_back(route(std::nullopt, std::nullopt, std::nullopt, "r2"));
  acct.routes.push_back(route("vxpolls", "poll2", std::nullopt, "r3"));
  acct.routes.push_back(route("survey", std::nullopt, "poll_complete", "r4"));
  cfg.accounts.push_back(acct);
  StringMap<std::unique_ptr<plugin::HandlerInstance>> none;
  RouteIndex index(cfg, none);

  EXPECT_EQ(matched_paths(index, "acct1", "vxpolls", "poll1", "poll_complete"),
            (std::vector<std::string>{"r0", "r1", "r2"}));
  EXPECT_EQ(matched_paths(index, "acct1", "vxpolls", "poll2", "opted_out"),
            (std::vector<std::string>{"r2", "r3"}));
  EXPECT_EQ(matched_paths(index, "acct1", "survey", "s1", "poll_complete"),
            (std::vector<std::string>{"r0", "r2", "r4"}));
  EXPECT_TRUE(matched_paths(index, "nobody", "vxpolls", "poll1", "poll_complete").empty());
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
  const std::vector<std::optional<std::string>> types{std::nullopt, "vxpolls", "survey"};
  const std::vector<std::optional<std::string>> keys{std::nullopt, "poll1", "poll2"};
  const std::vector<std::optional<std::string>> events{std::nullopt, "poll_complete", "opted_out"};
  std::vector<config::RouteSpec> all;
  for (std::size_t i = 0; i < 14; ++i) {  // every shape of wildcard, some twice
    all.push_back(route(types[i % 3], keys[(i / 3) % 3], events[(i * 7 + 1) % 3], "r" + std::to_string(i)));
  }
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

  const auto wanted = [](const std::optional<std::string>& on, std::string_view value) {
    return !on || *on == value;
  };
  int checked = 0;
  for (const config::AccountSpec& acct : cfg.accounts) {
    for (std::string_view type : {"vxpolls", "survey", "bulk"}) {
      for (std::string_view key : {"poll1", "poll2", "poll3"}) {
        for (std::string_view event : {"poll_complete", "opted_out", "other"}) {
          std::vector<std::string> expected;
          for (const config::RouteSpec& r : acct.routes) {
            if (r.enabled && wanted(r.on.conversation_type, type) && wanted(r.on.conversation_key, key) &&
                wanted(r.on.event_type, event))
              expected.push_back(r.path);
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
    acct.routes.push_back(route("vxpolls", "poll" + std::to_string(i), "poll_complete", acct.key));
    cfg.accounts.push_back(std::move(acct));
  }
  StringMap<std::unique_ptr<plugin::HandlerInstance>> none;
  RouteIndex index(cfg, none);
  EXPECT_EQ(index.route_count(), 10000u);
  EXPECT_EQ(matched_paths(index, "acct7777", "vxpolls", "poll7777", "poll_complete"),
            (std::vector<std::string>{"acct7777"}));
  EXPECT_TRUE(matched_paths(index, "acct7777", "vxpolls", "poll7778", "poll_complete").empty());
}

}  // namespace
}  // namespace vumi::dispatch
