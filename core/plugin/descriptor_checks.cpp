// The loader's descriptor checks and the schema validator behind vumi/host_checks.hpp. Compiled
// into vumi::sdk_testing (sdk/CMakeLists.txt), which the host links too: one copy of the rules.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <set>
#include <vumi/host_checks.hpp>

#include "common/identifier.hpp"
#include "common/json.hpp"
#include "plugin/descriptor_copy.hpp"
#include "plugin/schema.hpp"

namespace vumi::host_checks {

namespace {

// The descriptor sizes of ABI 1.<index>: a plugin built for that minor declares at least this much,
// and the host reads no more (bytes past a minor's fields are not that minor's to define). A new
// minor appends its sizes here when it appends fields.
constexpr std::size_t kPluginInfoSizeByMinor[] = {VUMI_PLUGIN_INFO_V1_0_SIZE, VUMI_PLUGIN_INFO_V1_1_SIZE};
constexpr std::size_t kHandlerTypeSizeByMinor[] = {VUMI_HANDLER_TYPE_V1_0_SIZE, VUMI_HANDLER_TYPE_V1_1_SIZE};
static_assert(std::size(kPluginInfoSizeByMinor) == VUMI_ABI_MINOR + 1);
static_assert(std::size(kHandlerTypeSizeByMinor) == VUMI_ABI_MINOR + 1);

// struct_size, abi_major and abi_minor lead every descriptor of every major.
constexpr std::size_t kVersionBlockSize = offsetof(vumi_plugin_info, abi_minor) + sizeof(std::uint16_t);

// A descriptor claiming more handler types than this is garbage, not a plugin.
constexpr std::uint32_t kMaxHandlerTypes = 1024;

const char* const kDefaultSchema = R"({"type":"object","additionalProperties":false})";

std::string abi_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::uint32_t declared_size(const void* descriptor) {
  std::uint32_t size = 0;
  std::memcpy(&size, descriptor, sizeof size);
  return size;
}

bool is_missing(const char* s) {
  return s == nullptr || *s == '\0';
}

void check_identity(const vumi_plugin_info& info) {
  if (is_missing(info.name)) throw Refused("plugin name is missing");
  if (auto checked = check_identifier(info.name); !checked)
    throw Refused("plugin name " + json::quoted(info.name) + " " + checked.error().message);
  if (is_missing(info.version)) throw Refused("plugin version is missing");
  if (is_missing(info.build_tag)) throw Refused("build_tag is missing");
}

// Parses a declared schema (NULL means "accepts {} only") and checks it is within the subset.
boost::json::value read_schema(const char* text, const std::string& handler, const char* field) {
  const std::string where = "handler " + json::quoted(handler) + ": " + field;
  boost::json::value schema;
  json::ParseError parse_error;
  if (!json::parse(text ? text : kDefaultSchema, json::ParseLimits{}, schema, parse_error))
    throw Refused(where + " is not valid JSON: " + parse_error.message);
  std::vector<std::string> problems = plugin::schema_problems(schema);
  if (!problems.empty()) {
    std::string joined;
    for (const std::string& problem : problems) joined += (joined.empty() ? "" : "; ") + problem;
    throw Refused(where + ": " + joined);
  }
  return schema;
}

CheckedHandlerType read_handler_type(const vumi_handler_type* raw, std::uint32_t index,
                                     unsigned plugin_minor) {
  const std::string position = "handler #" + std::to_string(index);
  if (!raw) throw Refused(position + " is NULL");
  const std::uint32_t size = declared_size(raw);
  if (size < kHandlerTypeSizeByMinor[plugin_minor])
    throw Refused(position + ": descriptor is " + std::to_string(size) + " bytes, ABI " +
                  abi_text(VUMI_ABI_MAJOR, plugin_minor) + " requires at least " +
                  std::to_string(kHandlerTypeSizeByMinor[plugin_minor]));
  CheckedHandlerType type;
  type.abi = plugin::copy_descriptor<vumi_handler_type>(
      raw, static_cast<std::uint32_t>(std::min<std::size_t>(size, kHandlerTypeSizeByMinor[plugin_minor])));
  const vumi_handler_type& abi = type.abi;

  if (is_missing(abi.name)) throw Refused(position + " has no name");
  if (auto checked = check_identifier(abi.name); !checked)
    throw Refused("handler name " + json::quoted(abi.name) + " " + checked.error().message);
  type.name = abi.name;
  const std::string where = "handler " + json::quoted(type.name) + ": ";
  if (!abi.handle) throw Refused(where + "handle() is NULL");
  if (abi.create && !abi.destroy) throw Refused(where + "create() is given without destroy()");
  if (abi.threading != VUMI_THREADING_SERIAL && abi.threading != VUMI_THREADING_REENTRANT)
    throw Refused(where + "unknown threading model " + std::to_string(abi.threading));
  type.options_schema = read_schema(abi.options_schema, type.name, "options_schema");
  type.step_schema = read_schema(abi.step_schema, type.name, "step_schema");
  return type;
}

// Entry symbols of other majors follow the same pattern; a plugin exporting one is built for that
// major, not broken.
constexpr unsigned kLastMajorProbed = 16;

}  // namespace

std::string missing_entry_reason(const std::function<bool(const std::string&)>& has_symbol) {
  for (unsigned major = 0; major <= kLastMajorProbed; ++major) {
    if (major == VUMI_ABI_MAJOR) continue;
    const std::string symbol = "vumi_plugin_entry_v" + std::to_string(major);
    if (has_symbol(symbol))
      return "plugin built for ABI " + std::to_string(major) + " (" + symbol + "); this host supports " +
             std::to_string(VUMI_ABI_MAJOR) + ".x";
  }
  return "entry symbol " VUMI_PLUGIN_ENTRY_NAME
         " not found; a C++ plugin defines it with VUMI_PLUGIN(name, version, Handler...) from "
         "<vumi/plugin.hpp>, a C plugin exports it with VUMI_PLUGIN_EXPORT";
}

vumi_plugin_info read_plugin_info(const vumi_plugin_info* raw) {
  if (!raw) throw Refused("entry function " VUMI_PLUGIN_ENTRY_NAME " returned NULL");
  const std::uint32_t size = declared_size(raw);
  if (size < kVersionBlockSize)
    throw Refused("descriptor is " + std::to_string(size) + " bytes, too small to hold its ABI version (" +
                  std::to_string(kVersionBlockSize) + " bytes)");
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::memcpy(&major, reinterpret_cast<const char*>(raw) + offsetof(vumi_plugin_info, abi_major),
              sizeof major);
  std::memcpy(&minor, reinterpret_cast<const char*>(raw) + offsetof(vumi_plugin_info, abi_minor),
              sizeof minor);
  if (major != VUMI_ABI_MAJOR)
    throw Refused("plugin ABI " + abi_text(major, minor) + ", host supports " +
                  std::to_string(VUMI_ABI_MAJOR) + ".x");
  if (minor > VUMI_ABI_MINOR)
    throw Refused("plugin ABI " + abi_text(major, minor) + ", host supports up to " +
                  abi_text(VUMI_ABI_MAJOR, VUMI_ABI_MINOR));
  if (size < kPluginInfoSizeByMinor[minor])
    throw Refused("descriptor is " + std::to_string(size) + " bytes, ABI " + abi_text(major, minor) +
                  " requires at least " + std::to_string(kPluginInfoSizeByMinor[minor]));
  vumi_plugin_info info = plugin::copy_descriptor<vumi_plugin_info>(
      raw, static_cast<std::uint32_t>(std::min<std::size_t>(size, kPluginInfoSizeByMinor[minor])));
  check_identity(info);
  return info;
}

std::vector<CheckedHandlerType> read_handler_types(const vumi_plugin_info& info) {
  if (info.handler_count == 0) throw Refused("declares no handler types");
  if (info.handler_count > kMaxHandlerTypes)
    throw Refused("declares " + std::to_string(info.handler_count) + " handler types, more than " +
                  std::to_string(kMaxHandlerTypes));
  if (!info.handlers) throw Refused("handlers is NULL");
  std::vector<CheckedHandlerType> types;
  std::set<std::string, std::less<>> names;
  for (std::uint32_t i = 0; i < info.handler_count; ++i) {
    CheckedHandlerType type = read_handler_type(info.handlers[i], i, info.abi_minor);
    if (!names.insert(type.name).second)
      throw Refused("handler type " + json::quoted(type.name) + " is declared twice");
    types.push_back(std::move(type));
  }
  return types;
}

std::vector<std::string> schema_problems(const boost::json::value& schema) {
  return plugin::schema_problems(schema);
}

std::vector<std::pair<std::string, std::string>> validate(const boost::json::value& value,
                                                          const boost::json::value& schema,
                                                          const std::string& path, bool allow_templates) {
  std::vector<std::pair<std::string, std::string>> errors;
  plugin::SchemaOptions options;
  options.allow_templates = allow_templates;
  plugin::validate_against_schema(value, schema, path, options, errors);
  return errors;
}

}  // namespace vumi::host_checks
