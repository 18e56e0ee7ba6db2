// The checks the vumi-dispatcher host applies to a plugin, as a library (vumi::sdk_testing): the
// loader's descriptor checks and the schema subset's validator. The daemon and the fake host
// (vumi/testing.hpp) both call these, so a plugin the fake host accepts is one the daemon loads,
// refused with the same words otherwise.
#ifndef VUMI_HOST_CHECKS_HPP
#define VUMI_HOST_CHECKS_HPP

#include <vumi/plugin.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vumi::host_checks {

// A descriptor the host refuses; what() is the reason the daemon prints after "<file>: ".
class Refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why a library without VUMI_PLUGIN_ENTRY_NAME is refused: built for another major (it exports
// that major's entry, e.g. vumi_plugin_entry_v2), or no entry at all (with a hint at VUMI_PLUGIN).
// has_symbol tells whether the library exports a symbol of that name.
std::string missing_entry_reason(const std::function<bool(const std::string&)>& has_symbol);

// Checks the version block (major, minor not newer than the host's, size for that minor) and the
// identity (name, version, build tag), then returns a zero-filled host-sized copy. Throws Refused.
vumi_plugin_info read_plugin_info(const vumi_plugin_info* raw);

// One handler type as the host keeps it.
struct CheckedHandlerType {
  std::string name;
  vumi_handler_type abi{};            // host-sized copy: fields of newer minors read as zero/NULL
  boost::json::value options_schema;  // parsed; NULL reads as {"type":"object","additionalProperties":false}
  boost::json::value step_schema;
};

// Checks the handler list (count, NULL entries, sizes, names, callbacks, threading, schemas,
// duplicates within the plugin) of a descriptor read_plugin_info accepted. Throws Refused.
std::vector<CheckedHandlerType> read_handler_types(const vumi_plugin_info& info);

// Problems with a schema itself ("properties.to.type: unknown type \"strin\" ..."); empty when valid.
std::vector<std::string> schema_problems(const boost::json::value& schema);

// (JSON path, message) pairs for value against schema, paths built on `path`. With
// allow_templates, a string that is one template is accepted for any type (configs as written).
std::vector<std::pair<std::string, std::string>> validate(const boost::json::value& value,
                                                          const boost::json::value& schema,
                                                          const std::string& path, bool allow_templates);

}  // namespace vumi::host_checks

#endif  // VUMI_HOST_CHECKS_HPP
