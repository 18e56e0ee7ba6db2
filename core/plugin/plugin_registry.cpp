// The plugin loader: opens a shared object, checks its descriptor field by field, runs its init
// and registers its handler types. Any check that fails refuses the plugin with the reason and
// leaves the registry as it was.
#include "plugin/plugin_registry.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include "common/identifier.hpp"
#include "common/json.hpp"
#include "plugin/descriptor_copy.hpp"
#include "plugin/host_call.hpp"
#include "plugin/plugin_file_check.hpp"
#include "plugin/schema.hpp"

namespace vumi::plugin {

namespace fs = std::filesystem;

std::string PluginRefusal::text() const {
  return file.string() + ": " + reason;
}

namespace {

using EntrySignature = const vumi_plugin_info*(const vumi_host_info*);

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

// Why a plugin is refused; thrown only inside load_file and caught there.
struct Refused {
  std::string reason;
};

std::string abi_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// The ABI's name for a status; a value outside the ABI's list is shown as its number.
std::string status_text(vumi_status status) {
  const std::string_view name = vumi_status_name(status);
  return name == "unknown" ? "status " + std::to_string(static_cast<int>(status)) : std::string(name);
}

std::uint32_t declared_size(const void* descriptor) {
  std::uint32_t size = 0;
  std::memcpy(&size, descriptor, sizeof size);
  return size;
}

bool is_missing(const char* s) {
  return s == nullptr || *s == '\0';
}

// An accepted plugin: the open library and the host-sized copy of its descriptor.
class LoadedLibrary final : public LoadedPlugin {
 public:
  LoadedLibrary(fs::path file, boost::dll::shared_library library)
      : file_(std::move(file)), library_(std::move(library)) {}
  // Runs shutdown (only for a plugin whose init succeeded); the library unloads right after.
  ~LoadedLibrary() override {
    if (initialized_ && info_.shutdown) info_.shutdown();
  }
  LoadedLibrary(const LoadedLibrary&) = delete;
  LoadedLibrary& operator=(const LoadedLibrary&) = delete;

  const fs::path& file() const override { return file_; }
  std::string_view name() const override { return name_; }
  std::string_view version() const override { return version_; }
  std::string_view build_tag() const override { return build_tag_; }
  unsigned abi_major() const override { return info_.abi_major; }
  unsigned abi_minor() const override { return info_.abi_minor; }

  fs::path file_;
  boost::dll::shared_library library_;
  vumi_plugin_info info_{};
  std::string name_;
  std::string version_;
  std::string build_tag_;
  bool initialized_ = false;
};

boost::dll::shared_library open_library(const fs::path& file) {
  std::error_code exists_error;
  if (!fs::exists(file, exists_error)) throw Refused{"does not exist"};
  boost::dll::shared_library library;
  std::error_code error;
  library.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
  if (error) {
    // Boost.DLL reports only an errno-style code; dlerror() still holds the loader's own words.
    const char* why = dlerror();
    throw Refused{"not a loadable shared object: " + (why ? std::string(why) : error.message())};
  }
  return library;
}

// Entry symbols of other majors follow the same pattern; a plugin exporting one is built for that
// major, not broken.
constexpr unsigned kLastMajorProbed = 16;

[[noreturn]] void refuse_missing_entry(const boost::dll::shared_library& library) {
  for (unsigned major = 0; major <= kLastMajorProbed; ++major) {
    if (major == VUMI_ABI_MAJOR) continue;
    const std::string symbol = "vumi_plugin_entry_v" + std::to_string(major);
    if (library.has(symbol))
      throw Refused{"plugin built for ABI " + std::to_string(major) + " (" + symbol + "); this host supports " +
                    std::to_string(VUMI_ABI_MAJOR) + ".x"};
  }
  throw Refused{"entry symbol " VUMI_PLUGIN_ENTRY_NAME
                " not found; a C++ plugin defines it with VUMI_PLUGIN(name, version, Handler...) from "
                "<vumi/plugin.hpp>, a C plugin exports it with VUMI_PLUGIN_EXPORT"};
}

const vumi_plugin_info* call_entry(const boost::dll::shared_library& library) {
  if (!library.has(VUMI_PLUGIN_ENTRY_NAME)) refuse_missing_entry(library);
  EntrySignature& entry = library.get<EntrySignature>(VUMI_PLUGIN_ENTRY_NAME);
  const vumi_plugin_info* raw = nullptr;
  try {
    raw = entry(host_info());
  } catch (const std::exception& e) {
    throw Refused{"entry function " VUMI_PLUGIN_ENTRY_NAME " threw an exception: " + std::string(e.what())};
  } catch (...) {
    throw Refused{"entry function " VUMI_PLUGIN_ENTRY_NAME " threw an exception"};
  }
  if (!raw) throw Refused{"entry function " VUMI_PLUGIN_ENTRY_NAME " returned NULL"};
  return raw;
}

// Checks the version block, then copies the descriptor into a zero-filled host-sized struct.
vumi_plugin_info read_plugin_info(const vumi_plugin_info* raw) {
  const std::uint32_t size = declared_size(raw);
  if (size < kVersionBlockSize)
    throw Refused{"descriptor is " + std::to_string(size) + " bytes, too small to hold its ABI version (" +
                  std::to_string(kVersionBlockSize) + " bytes)"};
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::memcpy(&major, reinterpret_cast<const char*>(raw) + offsetof(vumi_plugin_info, abi_major),
              sizeof major);
  std::memcpy(&minor, reinterpret_cast<const char*>(raw) + offsetof(vumi_plugin_info, abi_minor),
              sizeof minor);
  if (major != VUMI_ABI_MAJOR)
    throw Refused{"plugin ABI " + abi_text(major, minor) + ", host supports " +
                  std::to_string(VUMI_ABI_MAJOR) + ".x"};
  if (minor > VUMI_ABI_MINOR)
    throw Refused{"plugin ABI " + abi_text(major, minor) + ", host supports up to " +
                  abi_text(VUMI_ABI_MAJOR, VUMI_ABI_MINOR)};
  if (size < kPluginInfoSizeByMinor[minor])
    throw Refused{"descriptor is " + std::to_string(size) + " bytes, ABI " + abi_text(major, minor) +
                  " requires at least " + std::to_string(kPluginInfoSizeByMinor[minor])};
  return copy_descriptor<vumi_plugin_info>(
      raw, static_cast<std::uint32_t>(std::min<std::size_t>(size, kPluginInfoSizeByMinor[minor])));
}

void check_identity(const vumi_plugin_info& info) {
  if (is_missing(info.name)) throw Refused{"plugin name is missing"};
  if (auto problem = identifier_problem(info.name))
    throw Refused{"plugin name " + json::quoted(info.name) + " " + *problem};
  if (is_missing(info.version)) throw Refused{"plugin version is missing"};
  if (is_missing(info.build_tag)) throw Refused{"build_tag is missing"};
}

// Parses a declared schema (NULL means "accepts {} only") and checks it is within the subset.
boost::json::value read_schema(const char* text, const std::string& handler, const char* field) {
  const std::string where = "handler " + json::quoted(handler) + ": " + field;
  boost::json::value schema;
  json::ParseError parse_error;
  if (!json::parse(text ? text : kDefaultSchema, json::ParseLimits{}, schema, parse_error))
    throw Refused{where + " is not valid JSON: " + parse_error.message};
  std::vector<std::string> problems = schema_problems(schema);
  if (!problems.empty()) {
    std::string joined;
    for (const std::string& problem : problems) joined += (joined.empty() ? "" : "; ") + problem;
    throw Refused{where + ": " + joined};
  }
  return schema;
}

std::shared_ptr<HandlerType> read_handler_type(const vumi_handler_type* raw, std::uint32_t index,
                                               unsigned plugin_minor) {
  const std::string position = "handler #" + std::to_string(index);
  if (!raw) throw Refused{position + " is NULL"};
  const std::uint32_t size = declared_size(raw);
  if (size < kHandlerTypeSizeByMinor[plugin_minor])
    throw Refused{position + ": descriptor is " + std::to_string(size) + " bytes, ABI " +
                  abi_text(VUMI_ABI_MAJOR, plugin_minor) + " requires at least " +
                  std::to_string(kHandlerTypeSizeByMinor[plugin_minor])};
  auto type = std::make_shared<HandlerType>();
  type->abi = copy_descriptor<vumi_handler_type>(
      raw, static_cast<std::uint32_t>(std::min<std::size_t>(size, kHandlerTypeSizeByMinor[plugin_minor])));
  const vumi_handler_type& abi = type->abi;

  if (is_missing(abi.name)) throw Refused{position + " has no name"};
  if (auto problem = identifier_problem(abi.name))
    throw Refused{"handler name " + json::quoted(abi.name) + " " + *problem};
  type->name = abi.name;
  const std::string where = "handler " + json::quoted(type->name) + ": ";
  if (!abi.handle) throw Refused{where + "handle() is NULL"};
  if (abi.create && !abi.destroy) throw Refused{where + "create() is given without destroy()"};
  if (abi.threading != VUMI_THREADING_SERIAL && abi.threading != VUMI_THREADING_REENTRANT)
    throw Refused{where + "unknown threading model " + std::to_string(abi.threading)};

  type->description = abi.description ? abi.description : "";
  type->output_description = abi.output_description ? abi.output_description : "";
  type->threading = static_cast<vumi_threading>(abi.threading);
  type->options_schema = read_schema(abi.options_schema, type->name, "options_schema");
  type->step_schema = read_schema(abi.step_schema, type->name, "step_schema");
  return type;
}

}  // namespace

struct PluginRegistry::State {
  std::vector<Entry> plugins;
  std::vector<PluginRefusal> refusals;
  std::map<std::string, std::shared_ptr<const HandlerType>, std::less<>> types;
  bool insecure_paths_ok = false;

  const Entry* plugin_named(std::string_view name) const {
    for (const Entry& entry : plugins)
      if (entry.plugin->name() == name) return &entry;
    return nullptr;
  }

  // Everything short of registering: throws Refused with the first reason found.
  Entry load(const fs::path& file) const {
    // Before dlopen: a library's constructors run as soon as it is opened.
    if (!insecure_paths_ok)
      if (auto problem = unsafe_plugin_path(file)) throw Refused{"refused: " + *problem};
    auto plugin = std::make_shared<LoadedLibrary>(file, open_library(file));
    plugin->info_ = read_plugin_info(call_entry(plugin->library_));
    const vumi_plugin_info& info = plugin->info_;
    check_identity(info);
    plugin->name_ = info.name;
    plugin->version_ = info.version;
    plugin->build_tag_ = info.build_tag;
    if (const Entry* other = plugin_named(plugin->name_))
      throw Refused{"plugin " + json::quoted(plugin->name_) + " is already loaded from " +
                    other->plugin->file().string()};

    if (info.handler_count == 0) throw Refused{"declares no handler types"};
    if (info.handler_count > kMaxHandlerTypes)
      throw Refused{"declares " + std::to_string(info.handler_count) + " handler types, more than " +
                    std::to_string(kMaxHandlerTypes)};
    if (!info.handlers) throw Refused{"handlers is NULL"};

    Entry entry;
    entry.plugin = plugin;
    std::set<std::string, std::less<>> names;
    for (std::uint32_t i = 0; i < info.handler_count; ++i) {
      std::shared_ptr<HandlerType> type = read_handler_type(info.handlers[i], i, info.abi_minor);
      if (!names.insert(type->name).second)
        throw Refused{"handler type " + json::quoted(type->name) + " is declared twice"};
      if (auto found = types.find(type->name); found != types.end())
        throw Refused{"handler type " + json::quoted(type->name) + " is already registered by plugin " +
                      json::quoted(found->second->plugin->name()) + " (" +
                      found->second->plugin->file().string() + ")"};
      type->plugin = plugin;
      entry.types.push_back(std::move(type));
    }

    if (info.init) {
      vumi_call call;
      call.plugin_name = plugin->name_;
      vumi_status status = VUMI_ERR_INTERNAL;
      try {
        status = info.init(&call, host_api());
      } catch (const std::exception& e) {
        throw Refused{"init failed: it threw an exception: " + std::string(e.what())};
      } catch (...) {
        throw Refused{"init failed: it threw an exception"};
      }
      if (status != VUMI_OK)
        throw Refused{"init failed: " + (call.error.empty()
                                             ? "returned " + status_text(status) + " without a message"
                                             : call.error)};
    }
    plugin->initialized_ = true;
    return entry;
  }
};

PluginRegistry::PluginRegistry() : state_(std::make_unique<State>()) {}
PluginRegistry::~PluginRegistry() = default;
PluginRegistry::PluginRegistry(PluginRegistry&&) noexcept = default;
PluginRegistry& PluginRegistry::operator=(PluginRegistry&&) noexcept = default;

void PluginRegistry::load_path(const std::vector<fs::path>& plugin_path) {
  for (const fs::path& path : plugin_path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) {
      state_->refusals.push_back({path, "does not exist"});
      continue;
    }
    if (error) {
      state_->refusals.push_back({path, "cannot be read: " + error.message()});
      continue;
    }
    if (!fs::is_directory(status)) {
      load_file(path);
      continue;
    }
    if (!state_->insecure_paths_ok) {
      if (auto problem = unsafe_plugin_path(path)) {
        state_->refusals.push_back({path, "refused: " + *problem});
        continue;
      }
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
      std::error_code type_error;
      if (it->path().extension() == ".so" && !it->is_directory(type_error)) files.push_back(it->path());
    }
    if (error) {
      state_->refusals.push_back({path, "folder cannot be read: " + error.message()});
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) load_file(file);
  }
}

bool PluginRegistry::load_file(const fs::path& file) {
  try {
    Entry entry = state_->load(file);
    for (const auto& type : entry.types) state_->types.emplace(type->name, type);
    state_->plugins.push_back(std::move(entry));
    return true;
  } catch (const Refused& refused) {
    state_->refusals.push_back({file, refused.reason});
  } catch (const std::exception& e) {
    state_->refusals.push_back({file, std::string("could not be loaded: ") + e.what()});
  }
  return false;
}

void PluginRegistry::allow_insecure_paths(bool allow) {
  state_->insecure_paths_ok = allow;
}

std::shared_ptr<const HandlerType> PluginRegistry::find(std::string_view type_name) const {
  auto found = state_->types.find(type_name);
  return found == state_->types.end() ? nullptr : found->second;
}

std::vector<std::string> PluginRegistry::type_names() const {
  std::vector<std::string> names;
  names.reserve(state_->types.size());
  for (const auto& [name, type] : state_->types) names.push_back(name);
  return names;
}

const std::vector<PluginRegistry::Entry>& PluginRegistry::plugins() const {
  return state_->plugins;
}

const std::vector<PluginRefusal>& PluginRegistry::refusals() const {
  return state_->refusals;
}

}  // namespace vumi::plugin
