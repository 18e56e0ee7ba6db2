// A member subscribes to its accounts' events only, and to shard 0's account-less work when it holds it.
#include "cluster/ingest_prefixes.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/shard_hash.hpp"

namespace {

using ::testing::ElementsAre;

TEST(IngestPrefixes, EventsOfHeldShardsAccountsAndEveryInboundFamily) {
  static_assert(vumi::shard_of("acct1", 2) == 1 && vumi::shard_of("acct2", 2) == 0);
  vumi::dispatch::ShardOwnership ownership(2);
  ownership.set(1, true);
  EXPECT_THAT(vumi::cluster::ingest_prefixes(ownership, {"acct1", "acct2"}),
              ElementsAre("conversation_outbound.", "event.acct1.", "inbound.", "transport_event."));
  ownership.set(0, true);
  EXPECT_THAT(vumi::cluster::ingest_prefixes(ownership, {"acct1", "acct2"}),
              ElementsAre("command.", "conversation_outbound.", "event.acct1.", "event.acct2.", "inbound.",
                          "transport_event."));
  ownership.set(0, false);
  ownership.set(1, false);
  EXPECT_THAT(vumi::cluster::ingest_prefixes(ownership, {"acct1", "acct2"}),
              ElementsAre("conversation_outbound.", "inbound.", "transport_event."));
}

}  // namespace
