// The schema subset plugins declare for their options and step configs (docs/sdk.md), and the
// validator the host runs on operator config against it.
//
// A schema is a JSON object with any of: "type" ("string", "integer", "number", "boolean",
// "object", "array", "null", "any", or an array of those), "description", "default", "enum",
// "properties" (object of name -> schema), "required" (array of names),
// "additionalProperties" (bool or schema; default false: unknown keys are errors), "items",
// "minLength", "maxLength", "minimum", "maximum".
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vumi::plugin {

// Problems with a schema itself ("properties.to_addr.type: unknown type \"strin\""); empty when valid.
std::vector<std::string> schema_problems(const boost::json::value& schema);

struct SchemaOptions {
  // When true, a string that is exactly one template ("{{/ptr}}") is accepted for any type, and a
  // string containing templates is accepted where a string is wanted (step configs are checked
  // before rendering).
  bool allow_templates = false;
};

// Validates value against schema; appends (json path, message) pairs, paths built on `path`
// ("handlers.sms.options.transport_name").
void validate_against_schema(const boost::json::value& value, const boost::json::value& schema,
                             const std::string& path, const SchemaOptions& options,
                             std::vector<std::pair<std::string, std::string>>& errors);

}  // namespace vumi::plugin
