// Values the store generates (timestamps, contact keys) and the rules for contact fields.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "store/state_store.hpp"

namespace vumi::store {

// ISO-8601 UTC with milliseconds: "2026-11-27T03:39:50.123Z".
std::string iso8601_utc_ms(std::chrono::system_clock::time_point when);
std::string now_iso8601_utc_ms();

// A time bound for dead-letter filters as the text the store compares: a duration ("30s", "10m",
// "2h", "7d") is taken as that long ago; an ISO-8601 UTC time ("2026-12-02T05:00:00Z", with or
// without milliseconds) is kept. Fails (invalid) saying why when text is neither.
Expected<std::string> time_bound(std::string_view text);

// 32 random lowercase hex characters (128 bits from SQLite's CSPRNG).
std::string random_contact_key();

// A failed data-path operation saying message: ErrorCode::unavailable when transient (the same
// call may succeed later, is_transient), else ErrorCode::refused.
inline Unexpected<Error> store_failure(std::string message, bool transient = false) {
  return fail(transient ? ErrorCode::unavailable : ErrorCode::refused, std::move(message));
}

// Sets contact.extra from its stored JSON text; fails (refused) when that is not a JSON object.
Expected<void> read_contact_extra(std::string_view stored, Contact& contact);

// A database URL with any password replaced by "***", for messages and logs.
std::string redacted_url(std::string_view url);

// Why fields cannot be upserted as a contact (unknown field, wrong type, missing msisdn), or "".
std::string contact_fields_problem(const boost::json::object& fields);

}  // namespace vumi::store
