// Logging setup: every area logs through spdlog's default logger; this decides its format.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vumi::logging {

enum class Format { text, json };

// Parses "text" / "json"; nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);

// True when name is one of trace, debug, info, warn, error, critical, off.
bool is_level_name(std::string_view name);

// Makes the default logger write to stderr: human-readable lines ("2026-01-02 03:04:05.678 info
// message") for text, one JSON object per line ({"time","level","msg"}) for json. Times are UTC.
// level_name must satisfy is_level_name. Safe to call again (replaces the previous setup).
void setup(Format format, std::string_view level_name);

// The format of the last setup() (text before any): writers that bypass spdlog match it.
Format current_format();

// Escapes s for inclusion inside a JSON string literal (no surrounding quotes).
std::string json_escape(std::string_view s);

}  // namespace vumi::logging
