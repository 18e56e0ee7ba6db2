// Values the store generates (timestamps, contact keys) and the rules for contact fields.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>

namespace vumi::store {

// ISO-8601 UTC with milliseconds: "2026-11-27T03:39:50.123Z".
std::string iso8601_utc_ms(std::chrono::system_clock::time_point when);
std::string now_iso8601_utc_ms();

// 32 random lowercase hex characters (128 bits from SQLite's CSPRNG).
std::string random_contact_key();

// Why fields cannot be upserted as a contact (unknown field, wrong type, missing msisdn), or "".
std::string contact_fields_problem(const boost::json::object& fields);

}  // namespace vumi::store
