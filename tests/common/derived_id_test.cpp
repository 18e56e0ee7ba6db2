// Derived ids are a contract (docs/delivery.md): a replay must derive the ids it derived before,
// in any build. The expected values are RFC 4122 version 5 UUIDs of the length-prefixed parts in
// the dispatcher's namespace, computed independently with Python's uuid.uuid5.
#include "common/derived_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using vumi::derived_id;

TEST(DerivedId, IsTheVersion5UuidOfTheLengthPrefixedPartsInTheDispatchersNamespace) {
  EXPECT_EQ(derived_id({}), "a2c4d9709b975a159cc764a03cb70ead");
  EXPECT_EQ(derived_id({""}), "5c40ec0d9f9351d68b632a118669cc3a");
  EXPECT_EQ(derived_id({"reliable", "bench:0000000001"}), "1c4884b81c3651ac81fecba21db49ccb");
  EXPECT_EQ(derived_id({"e1", "accounts.acct1.routes[0]", "1", "emit_event", "0"}),
            "7aeb809bc3d85529b5410914e0e3e4be");
  EXPECT_EQ(derived_id({"publish", R"({"x":1})"}), "ebe36fac4459523298b0928aeb092703");
  // Lengths count bytes (UTF-8), and a name over one SHA-1 block is hashed whole.
  EXPECT_EQ(derived_id({"\xc3\xa9", std::string(100, 'x')}), "fb60aeeccd785dccbb5f849c237b27f7");
}

TEST(DerivedId, PartsAreSeparatedUnambiguously) {
  EXPECT_EQ(derived_id({"a", "bc"}), "b035587f57a75997835a539574b60a7e");
  EXPECT_EQ(derived_id({"ab", "c"}), "fcf45cfd0e2d5236b3c792535bb8a944");
}

TEST(DerivedId, CarriesTheVersionAndVariantBits) {
  const std::string id = derived_id({"any", "parts"});
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id[12], '5');                                                // version 5: name-based, SHA-1
  EXPECT_NE(std::string("89ab").find(id[16]), std::string::npos) << id;  // variant 10xx (RFC 4122)
}

}  // namespace
