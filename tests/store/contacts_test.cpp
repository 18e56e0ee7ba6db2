// Contacts: upsert (create, update, merge), lookups, and account isolation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>

#include "backend_state.hpp"
#include "store/state_store.hpp"

namespace vumi::store {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;

const std::regex kIsoMillis(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

class ContactsTest : public testing::StoreBackendTest {
 protected:
  std::optional<Contact> upsert(std::string_view account, const char* fields_json, bool& created) {
    auto upserted = store_->contact_upsert(account, bj::parse(fields_json).as_object());
    EXPECT_TRUE(upserted) << upserted.error().message;
    if (!upserted) return std::nullopt;
    created = upserted->created;
    return std::move(upserted->contact);
  }
  // A lookup's answer; a failure fails the test and reads as absent.
  static std::optional<Contact> found(Expected<std::optional<Contact>> result) {
    EXPECT_TRUE(result) << "absent is not an error: " << result.error().message;
    return result ? std::move(*result) : std::nullopt;
  }
  Contact upsert_ok(std::string_view account, const char* fields_json) {
    bool created = false;
    auto contact = upsert(account, fields_json, created);
    return contact ? *contact : Contact{};
  }
  Error upsert_failure(std::string_view account, const char* fields_json) {
    auto upserted = store_->contact_upsert(account, bj::parse(fields_json).as_object());
    EXPECT_FALSE(upserted);
    if (upserted) return {};
    EXPECT_EQ(upserted.error().code, ErrorCode::invalid);
    return std::move(upserted).error();
  }
};

TEST_P(ContactsTest, UpsertCreatesAContactWithKeyAndTimestamps) {
  bool created = false;
  auto contact =
      upsert("acct1", R"({"msisdn": "+27821234567", "name": "Thandi", "extra": {"age": 31}})", created);
  ASSERT_TRUE(contact);
  EXPECT_TRUE(created);
  EXPECT_TRUE(std::regex_match(contact->contact_key, std::regex("[0-9a-f]{32}"))) << contact->contact_key;
  EXPECT_EQ(contact->account_key, "acct1");
  EXPECT_EQ(contact->msisdn, "+27821234567");
  EXPECT_EQ(contact->name, "Thandi");
  EXPECT_EQ(contact->surname, "");
  EXPECT_EQ(contact->extra, (bj::object{{"age", 31}}));
  EXPECT_TRUE(std::regex_match(contact->created_at, kIsoMillis)) << contact->created_at;
  EXPECT_EQ(contact->created_at, contact->updated_at);
}

TEST_P(ContactsTest, KeysAreDistinct) {
  auto a = upsert_ok("acct1", R"({"msisdn": "1"})");
  auto b = upsert_ok("acct1", R"({"msisdn": "2"})");
  EXPECT_NE(a.contact_key, b.contact_key);
}

TEST_P(ContactsTest, UpsertOfTheSameMsisdnUpdatesGivenFieldsAndKeepsOthers) {
  auto first = upsert_ok("acct1", R"({"msisdn": "+27821234567", "name": "Thandi", "surname": "Zulu"})");
  bool created = true;
  auto second = upsert("acct1", R"({"msisdn": "+27821234567", "name": "Thandeka"})", created);
  ASSERT_TRUE(second);
  EXPECT_FALSE(created);
  EXPECT_EQ(second->contact_key, first.contact_key);
  EXPECT_EQ(second->name, "Thandeka");
  EXPECT_EQ(second->surname, "Zulu");
  EXPECT_EQ(second->created_at, first.created_at);
  EXPECT_GE(second->updated_at, first.updated_at);
  EXPECT_EQ(store_->contacts("acct1").size(), 1u);
}

TEST_P(ContactsTest, EmptyStringIsAValueNotAbsence) {
  upsert_ok("acct1", R"({"msisdn": "5", "name": "Sipho", "surname": "Dlamini"})");
  auto updated = upsert_ok("acct1", R"({"msisdn": "5", "surname": ""})");
  EXPECT_EQ(updated.name, "Sipho");
  EXPECT_EQ(updated.surname, "");
}

TEST_P(ContactsTest, ExtraIsMergedKeyByKeyAndNullRemovesAKey) {
  upsert_ok("acct1",
            R"({"msisdn": "7", "extra": {"age": 31, "lang": "zu", "poll": {"q1": "yes"}, "drop": 1}})");
  auto merged = upsert_ok("acct1", R"({"msisdn": "7", "extra": {"lang": "en", "city": "Durban",
                                                                  "poll": {"q2": "no"}, "drop": null}})");
  EXPECT_EQ(merged.extra, bj::parse(R"({"age": 31, "lang": "en", "poll": {"q1": "yes", "q2": "no"},
                                       "city": "Durban"})"));
  auto untouched = upsert_ok("acct1", R"({"msisdn": "7", "name": "N"})");
  EXPECT_EQ(untouched.extra, merged.extra);
}

TEST_P(ContactsTest, NullsInAFirstExtraAreNotStored) {
  auto contact = upsert_ok("acct1", R"({"msisdn": "8", "extra": {"a": null, "b": [1, null]}})");
  EXPECT_EQ(contact.extra, bj::parse(R"({"b": [1, null]})"));
}

TEST_P(ContactsTest, FindByMsisdnAndGetByKey) {
  auto contact = upsert_ok("acct1", R"({"msisdn": "+1555", "name": "Ann"})");
  auto by_msisdn = found(store_->contact_find_by_msisdn("acct1", "+1555"));
  ASSERT_TRUE(by_msisdn);
  EXPECT_EQ(by_msisdn->contact_key, contact.contact_key);
  EXPECT_EQ(by_msisdn->name, "Ann");
  EXPECT_EQ(by_msisdn->account_key, "acct1");
  auto by_key = found(store_->contact_get("acct1", contact.contact_key));
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->msisdn, "+1555");
  EXPECT_FALSE(found(store_->contact_find_by_msisdn("acct1", "+1666")));
  EXPECT_FALSE(found(store_->contact_get("acct1", "00000000000000000000000000000000")));
}

TEST_P(ContactsTest, AccountsCannotSeeOrUpdateEachOthersContacts) {
  auto mine = upsert_ok("acct1", R"({"msisdn": "+27820000001", "name": "Mine", "extra": {"a": 1}})");
  // The other account finds nothing by msisdn or by the key.
  EXPECT_FALSE(found(store_->contact_find_by_msisdn("acct2", "+27820000001")));
  EXPECT_FALSE(found(store_->contact_get("acct2", mine.contact_key)));

  // Its upsert with the same msisdn creates its own contact instead of touching acct1's.
  bool created = false;
  auto theirs =
      upsert("acct2", R"({"msisdn": "+27820000001", "name": "Theirs", "extra": {"b": 2}})", created);
  ASSERT_TRUE(theirs);
  EXPECT_TRUE(created);
  EXPECT_NE(theirs->contact_key, mine.contact_key);

  auto still_mine = found(store_->contact_find_by_msisdn("acct1", "+27820000001"));
  ASSERT_TRUE(still_mine);
  EXPECT_EQ(still_mine->name, "Mine");
  EXPECT_EQ(still_mine->extra, (bj::object{{"a", 1}}));
  EXPECT_EQ(store_->contacts("acct1").size(), 1u);
  EXPECT_EQ(store_->contacts("acct2").size(), 1u);
  EXPECT_EQ(store_->contacts("").size(), 2u);
}

TEST_P(ContactsTest, ListingIsOldestFirstAndFilteredByAccount) {
  upsert_ok("acct1", R"({"msisdn": "1"})");
  upsert_ok("acct2", R"({"msisdn": "2"})");
  upsert_ok("acct1", R"({"msisdn": "3"})");
  upsert_ok("acct1", R"({"msisdn": "1", "name": "updated, not moved"})");
  auto all = store_->contacts("");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].msisdn, "1");
  EXPECT_EQ(all[0].account_key, "acct1");
  EXPECT_EQ(all[1].account_key, "acct2");
  EXPECT_EQ(all[2].msisdn, "3");
  auto acct1 = store_->contacts("acct1");
  ASSERT_EQ(acct1.size(), 2u);
  EXPECT_EQ(acct1[1].msisdn, "3");
  EXPECT_TRUE(store_->contacts("nobody").empty());
}

TEST_P(ContactsTest, BadFieldsAreReportedAndNothingIsWritten) {
  EXPECT_THAT(upsert_failure("acct1", R"({"name": "No number"})").message,
              HasSubstr("\"msisdn\" is required"));
  EXPECT_THAT(upsert_failure("acct1", R"({"msisdn": ""})").message, HasSubstr("\"msisdn\" is empty"));
  EXPECT_THAT(upsert_failure("acct1", R"({"msisdn": 27821234567})").message,
              HasSubstr("\"msisdn\" must be a string, not integer"));
  EXPECT_THAT(upsert_failure("acct1", R"({"msisdn": "1", "name": null})").message,
              HasSubstr("\"name\" must be a string, not null"));
  EXPECT_THAT(upsert_failure("acct1", R"({"msisdn": "1", "extra": [1]})").message,
              HasSubstr("\"extra\" must be an object, not array"));
  EXPECT_THAT(upsert_failure("acct1", R"({"msisdn": "1", "age": 3})").message,
              HasSubstr("unknown contact field \"age\""));
  EXPECT_THAT(upsert_failure("", R"({"msisdn": "1"})").message, HasSubstr("account key is empty"));
  EXPECT_TRUE(store_->contacts("").empty());
}

TEST_P(ContactsTest, ToJsonHasEveryFieldButTheAccount) {
  auto contact = upsert_ok("acct1", R"({"msisdn": "9", "name": "A", "surname": "B", "extra": {"x": true}})");
  auto json = contact.to_json();
  EXPECT_EQ(json.at("contact_key"), contact.contact_key.c_str());
  EXPECT_EQ(json.at("msisdn"), "9");
  EXPECT_EQ(json.at("name"), "A");
  EXPECT_EQ(json.at("surname"), "B");
  EXPECT_EQ(json.at("extra"), (bj::object{{"x", true}}));
  EXPECT_EQ(json.at("created_at"), contact.created_at.c_str());
  EXPECT_EQ(json.at("updated_at"), contact.updated_at.c_str());
  EXPECT_FALSE(json.contains("account_key"));
}

VUMI_STORE_ON_EVERY_BACKEND(ContactsTest);

}  // namespace
}  // namespace vumi::store
