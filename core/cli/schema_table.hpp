// A handler type's options or step-config schema as a readable table for `plugins`.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace vumi::cli {

// One row per key (nested keys dotted, array items as "key[]", other keys as "*"), with columns
// KEY, TYPE, REQUIRED, DEFAULT, DESCRIPTION; every line starts with indent and ends with '\n'.
// A schema that takes no keys prints "(none)".
std::string format_schema_table(const boost::json::value& schema, std::string_view indent);

}  // namespace vumi::cli
