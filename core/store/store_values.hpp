// Values the store generates (timestamps, contact keys) and the rules for contact fields.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "store/state_store.hpp"

namespace vumi::store {

// ISO-8601 UTC with milliseconds: "2026-11-27T03:39:50.123Z".
std::string iso8601_utc_ms(std::chrono::system_clock::time_point when);
std::string now_iso8601_utc_ms();

// A time bound for dead-letter filters as the text the store compares: a duration ("30s", "10m",
// "2h", "7d") is taken as that long ago; an ISO-8601 UTC time ("2026-12-02T05:00:00Z", with or
// without milliseconds) is kept. Empty, with why set, when text is neither.
std::string time_bound(std::string_view text, std::string& why);

// 32 random lowercase hex characters (128 bits from SQLite's CSPRNG).
std::string random_contact_key();

// Sets contact.extra from its stored JSON text; false (status set) when that is not a JSON object.
bool read_contact_extra(std::string_view stored, Contact& contact, StoreStatus& status);

// A database URL with any password replaced by "***", for messages and logs.
std::string redacted_url(std::string_view url);

// Why fields cannot be upserted as a contact (unknown field, wrong type, missing msisdn), or "".
std::string contact_fields_problem(const boost::json::object& fields);

}  // namespace vumi::store
