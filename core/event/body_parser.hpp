// One pass of Boost.JSON over an ingest body, with the decoder's limits and checks folded in:
// nesting depth, string length, duplicate keys, invalid UTF-8 told apart from other bad JSON.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

#include "event/envelope_decoder.hpp"
#include "event/rejection.hpp"

namespace vumi::event {

// Parses text into out (which should use the same storage, so the result is moved into it, not
// copied), allocating from storage (by default the default memory resource, so the
// value may outlive the parser and be moved freely). Returns the rejection when text is not acceptable JSON
// under limits; the size limit is the caller's to check before calling. Uses one parser per thread, reused
// across calls, so it is safe to call from several threads at once.
std::optional<Rejection> parse_body(std::string_view text, const DecodeLimits& limits,
                                    boost::json::value& out, boost::json::storage_ptr storage = {});

// Byte offset of the first invalid UTF-8 sequence in text, or nullopt when text is valid UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

}  // namespace vumi::event
