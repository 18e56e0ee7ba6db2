// How a message that crashed the daemon is recognised when it comes back: by its event id when
// the input carried one, otherwise by a hash of its topic and body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vumi::crash {

// MurmurHash64A (seed 0) of topic, a '\n' and body, as if concatenated; async-signal-safe.
std::uint64_t message_hash(std::string_view topic, std::string_view body) noexcept;

// "event:<event_id>" or "body:<16 hex digits of message_hash>".
std::string event_key(std::string_view event_id);
std::string body_key(std::string_view topic, std::string_view body);

// Writes the key into out (at least kMaxKeyBytes); returns its length. Async-signal-safe.
constexpr std::size_t kMaxKeyBytes = 6 + 128;
std::size_t write_key(char* out, std::string_view message_event_id, std::string_view topic,
                      std::string_view body) noexcept;

}  // namespace vumi::crash
