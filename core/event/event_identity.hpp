// Fresh event ids and vumi-style timestamps for events that arrive without them.
#pragma once

#include <chrono>
#include <string>

namespace vumi::event {

// 32 lowercase hex digits from a per-thread random generator (128 random bits, like a uuid4 hex).
std::string fresh_event_id();

// The same into out, without allocating.
void write_fresh_event_id(char (&out)[32]);

// t in UTC as vumi writes it: "YYYY-MM-DD HH:MM:SS.ffffff".
std::string vumi_timestamp(std::chrono::system_clock::time_point t);

// The current time as vumi_timestamp.
std::string vumi_timestamp_now();

}  // namespace vumi::event
