// Reads the "security" section (CURVE keys and per-key rights) and the rule that without CURVE
// the daemon binds loopback only (docs/security.md).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/field_reader.hpp"

namespace vumi::config {

// Success when text is a Z85-encoded CURVE key (40 characters of the Z85 alphabet); why not otherwise.
Expected<void> check_curve_key(std::string_view text);

// True for tcp:// endpoints on 127.0.0.0/8, ::1 or localhost, and for ipc:// and inproc://.
bool is_local_endpoint(std::string_view endpoint);

// Reads security into out; a relative secret_key_file is taken from config_dir (the config
// file's folder; the working directory for the embedded config).
void read_security(const boost::json::value& security, const std::filesystem::path& config_dir,
                   SecurityConfig& out, FieldReader& reader);

// Without CURVE (and without allow_insecure) every bind must be local: records an error naming
// each endpoint that is not.
void check_insecure_binds(const Config& config, FieldReader& reader);

}  // namespace vumi::config
