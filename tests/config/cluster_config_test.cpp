// The "cluster" section (docs/scale-out.md): shard count, name, owned and standby shards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config_test_util.hpp"

namespace {

using namespace vumi::config;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using vumi::config::testing::parse_errors;

std::string with_cluster(const std::string& cluster, const std::string& state = "") {
  return R"({ )" + state + R"( "cluster": )" + cluster + R"(, "accounts": {} })";
}

const std::string kPostgres = R"("state": {"backend": "postgresql", "url": "postgresql://localhost/vumi"},)";

TEST(ClusterConfig, AbsentMeansNotSharded) {
  LoadResult r = parse_config(R"({ "accounts": {} })", "t.json");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->cluster.has_value());
}

TEST(ClusterConfig, ReadsShardsNameOwnedAndStandbySorted) {
  LoadResult r = parse_config(
      with_cluster(R"({"shards": 4, "name": "d1", "owned": [2, 0], "standby": [3], "lease_poll_ms": 250})",
                   kPostgres),
      "t.json");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(vumi::config::testing::error_texts(r));
  const ClusterConfig& c = *r.config->cluster;
  EXPECT_EQ(c.shards, 4u);
  EXPECT_EQ(c.name, "d1");
  EXPECT_THAT(c.owned, ElementsAre(0u, 2u));
  EXPECT_THAT(c.standby, ElementsAre(3u));
  EXPECT_EQ(c.lease_poll_ms, 250u);
}

TEST(ClusterConfig, OwnedShardsWorkWithSqliteButStandbyNeedsPostgresql) {
  LoadResult owned = parse_config(with_cluster(R"({"shards": 2, "name": "d1", "owned": [1]})"), "t.json");
  EXPECT_TRUE(owned.ok());
  EXPECT_THAT(parse_errors(with_cluster(R"({"shards": 2, "name": "d1", "owned": [0], "standby": [1]})")),
              Contains(AllOf(HasSubstr("cluster.standby: needs"), HasSubstr("postgresql"))));
}

TEST(ClusterConfig, EveryMistakeIsNamedByItsPath) {
  auto errors = parse_errors(with_cluster(
      R"({"shards": 3, "name": "not a name", "owned": [0, 3, 0], "standby": [0], "lease_poll_ms": 5, "sharts": 1})",
      kPostgres));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster: unknown key \"sharts\"")));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster.name:")));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster.owned[1]: shard 3 does not exist: cluster.shards is 3")));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster.owned[2]: shard 0 is listed twice")));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster.standby: shard 0 is in cluster.owned too")));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster.lease_poll_ms:")));
}

TEST(ClusterConfig, ShardsAndNameAreRequiredAndSomeShardMustBeWanted) {
  auto errors = parse_errors(with_cluster("{}", kPostgres));
  EXPECT_THAT(errors, Contains(HasSubstr("missing required key \"shards\"")));
  EXPECT_THAT(errors, Contains(HasSubstr("missing required key \"name\"")));
  EXPECT_THAT(errors, Contains(HasSubstr("cluster: owns no shard")));
  EXPECT_THAT(parse_errors(with_cluster(R"({"shards": 0, "name": "d", "owned": []})")),
              Contains(HasSubstr("cluster.shards:")));
}

}  // namespace
