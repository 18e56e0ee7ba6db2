// The shard of an account is part of the cluster's contract (docs/scale-out.md): these values must
// never change, or dispatchers of two builds would disagree about who owns an account.
#include "common/shard_hash.hpp"

#include <gtest/gtest.h>

namespace {

using vumi::fnv1a_64;
using vumi::shard_of;

TEST(ShardHash, IsFnv1a64OfTheAccountKeysBytes) {
  // The FNV-1a test vectors: the offset basis for no bytes, and "a".
  EXPECT_EQ(fnv1a_64(""), 14695981039346656037ULL);
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a_64("acct1"), 10749913337189606945ULL);
  // Bytes, not characters: a key's UTF-8 is hashed as it is.
  EXPECT_NE(fnv1a_64("acct1"), fnv1a_64("acct2"));
}

TEST(ShardHash, ShardIsTheHashModuloTheShardCount) {
  EXPECT_EQ(shard_of("acct1", 1), 0u);
  EXPECT_EQ(shard_of("acct1", 3), 2u);
  EXPECT_EQ(shard_of("acct1", 16), 1u);
  EXPECT_EQ(shard_of("acct2", 16), 8u);
  EXPECT_EQ(shard_of("account-299", 3), 0u);
  EXPECT_EQ(shard_of("account-299", 16), 5u);
  static_assert(vumi::shard_of("a", 3) == 1, "usable at compile time");
}

}  // namespace
