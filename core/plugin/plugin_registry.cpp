// The plugin loader: opens a shared object, checks its descriptor field by field, runs its init
// and registers its handler types. Any check that fails refuses the plugin with the reason and
// leaves the registry as it was.
#include "plugin/plugin_registry.hpp"

#include <dlfcn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/dll/shared_library.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vumi/host_checks.hpp>

#include "common/expected.hpp"
#include "common/json.hpp"
#include "plugin/host_call.hpp"
#include "plugin/plugin_file_check.hpp"

namespace vumi::plugin {

namespace fs = std::filesystem;

std::string PluginRefusal::text() const {
  return file.string() + ": " + reason;
}

namespace {

using EntrySignature = const vumi_plugin_info*(const vumi_host_info*);

// Why a plugin is refused (the reason load_file records).
Unexpected<Error> refuse(std::string reason) {
  return fail(ErrorCode::refused, std::move(reason));
}

// The ABI's name for a status; a value outside the ABI's list is shown as its number.
std::string status_text(vumi_status status) {
  const std::string_view name = vumi_status_name(status);
  return name == "unknown" ? "status " + std::to_string(static_cast<int>(status)) : std::string(name);
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
  std::vector<host_checks::CheckedHandlerType>
      checked_;  // what a later registry reusing this image registers
};

// What tells one build of a plugin file from another: a rebuilt, copied-over or replaced file
// differs in inode, size or modification time.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

std::optional<FileIdentity> identity_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino, st.st_size,
                      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// Every plugin image this process loaded, by file. Registries (one per config generation) share
// images: an unchanged file is the same image, so init and shutdown run once per image however
// often the config is reloaded; a changed file becomes a new image beside the old one, which
// unloads when its last handler instance is gone.
class ImageCache {
 public:
  static ImageCache& instance() {
    static ImageCache cache;
    return cache;
  }

  struct Lookup {
    std::shared_ptr<LoadedLibrary> same;      // a live image of exactly this build of the file
    std::shared_ptr<LoadedLibrary> previous;  // a live image of another build of the file
    bool seen_other_build = false;            // another build was loaded before (live or not)
  };

  Lookup find(const std::string& key, const FileIdentity& identity) {
    std::lock_guard lock(mutex_);
    Lookup out;
    auto it = slots_.find(key);
    if (it == slots_.end()) return out;
    for (const Slot& slot : it->second) {
      auto image = slot.image.lock();
      if (slot.identity == identity) {
        if (image) out.same = image;
      } else {
        out.seen_other_build = true;
        if (image) out.previous = image;
      }
    }
    return out;
  }

  void remember(const std::string& key, const FileIdentity& identity,
                const std::shared_ptr<LoadedLibrary>& image) {
    std::lock_guard lock(mutex_);
    std::vector<Slot>& slots = slots_[key];
    std::erase_if(slots, [&](const Slot& slot) { return slot.identity == identity || slot.image.expired(); });
    slots.push_back({identity, image});
  }

 private:
  struct Slot {
    FileIdentity identity;
    std::weak_ptr<LoadedLibrary> image;
  };
  std::mutex mutex_;
  std::map<std::string, std::vector<Slot>, std::less<>> slots_;
};

// dlopen returns the image it already has for a path (or an inode) it has seen, whatever the file
// holds now. Another build of a file is therefore opened through a private copy, removed once
// mapped.
fs::path private_copy(const fs::path& file) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = fs::temp_directory_path() / ("vumi-plugin-images-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  fs::path copy = dir / (file.stem().string() + "." + std::to_string(++counter) + ".so");
  fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
  return copy;
}

Expected<boost::dll::shared_library> open_library(const fs::path& file) {
  std::error_code exists_error;
  if (!fs::exists(file, exists_error)) return refuse("does not exist");
  boost::dll::shared_library library;
  std::error_code error;
  library.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
  if (error) {
    // Boost.DLL reports only an errno-style code; dlerror() still holds the loader's own words.
    const char* why = dlerror();
    return refuse("not a loadable shared object: " + (why ? std::string(why) : error.message()));
  }
  return library;
}

// Opens file, or a private copy of it when another build of it was loaded before.
Expected<boost::dll::shared_library> open_build(const fs::path& file, bool seen_other_build) {
  if (!seen_other_build) return open_library(file);
  const fs::path copy = private_copy(file);
  Expected<boost::dll::shared_library> library = open_library(copy);
  std::error_code error;
  fs::remove(copy, error);  // mapped now (or refused); nothing else may open it
  return library;
}

Expected<const vumi_plugin_info*> call_entry(const boost::dll::shared_library& library) {
  if (!library.has(VUMI_PLUGIN_ENTRY_NAME))
    return refuse(
        host_checks::missing_entry_reason([&](const std::string& symbol) { return library.has(symbol); }));
  EntrySignature& entry = library.get<EntrySignature>(VUMI_PLUGIN_ENTRY_NAME);
  const vumi_plugin_info* raw = nullptr;
  try {
    raw = entry(host_info());
  } catch (const std::exception& e) {
    return refuse("entry function " VUMI_PLUGIN_ENTRY_NAME " threw an exception: " + std::string(e.what()));
  } catch (...) {
    return refuse("entry function " VUMI_PLUGIN_ENTRY_NAME " threw an exception");
  }
  if (!raw) return refuse("entry function " VUMI_PLUGIN_ENTRY_NAME " returned NULL");
  return raw;
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

  // Everything short of registering, or the first reason found to refuse the plugin. The SDK's
  // descriptor checks (host_checks) still throw their Refused; load_file catches it.
  Expected<Entry> load(const fs::path& file) const {
    // Before dlopen: a library's constructors run as soon as it is opened.
    if (!insecure_paths_ok)
      if (auto safe = check_plugin_path(file); !safe) return refuse("refused: " + safe.error().message);
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(file, error);
    const std::string key = error ? file.string() : canonical.string();
    const std::optional<FileIdentity> identity = identity_of(file);
    if (!identity) return refuse("does not exist");
    ImageCache::Lookup cached = ImageCache::instance().find(key, *identity);
    if (cached.same) return reuse(cached.same);

    Expected<boost::dll::shared_library> library = open_build(file, cached.seen_other_build);
    if (!library) return Unexpected(std::move(library).error());
    auto plugin = std::make_shared<LoadedLibrary>(file, std::move(library).value());
    Expected<Entry> entry = load_image(plugin);
    if (!entry) return entry;
    if (cached.previous)
      spdlog::info("plugin {} {} -> {} ({} changed; the new image serves new handler instances)",
                   plugin->name_, cached.previous->version(), plugin->version_, file.string());
    ImageCache::instance().remember(key, *identity, plugin);
    return entry;
  }

  // An image another registry loaded from this very build of the file: no second entry call or
  // init; its checked handler types are registered here too.
  Expected<Entry> reuse(const std::shared_ptr<LoadedLibrary>& plugin) const {
    if (auto unique = check_unique_name(*plugin); !unique) return Unexpected(std::move(unique).error());
    return entry_of(plugin);
  }

  Expected<void> check_unique_name(const LoadedLibrary& plugin) const {
    if (const Entry* other = plugin_named(plugin.name_))
      return refuse("plugin " + json::quoted(plugin.name_) + " is already loaded from " +
                    other->plugin->file().string());
    return {};
  }

  // The plugin with its checked handler types as this registry keeps them.
  Expected<Entry> entry_of(const std::shared_ptr<LoadedLibrary>& plugin) const {
    Entry entry;
    entry.plugin = plugin;
    for (const host_checks::CheckedHandlerType& checked : plugin->checked_) {
      auto type = register_type(plugin, host_checks::CheckedHandlerType(checked));
      if (!type) return Unexpected(std::move(type).error());
      entry.types.push_back(std::move(type).value());
    }
    return entry;
  }

  // The handler type as this registry keeps it; refused when another plugin here offers it.
  Expected<std::shared_ptr<HandlerType>> register_type(const std::shared_ptr<LoadedLibrary>& plugin,
                                                       host_checks::CheckedHandlerType checked) const {
    auto type = std::make_shared<HandlerType>();
    type->name = std::move(checked.name);
    type->abi = checked.abi;
    type->description = type->abi.description ? type->abi.description : "";
    type->output_description = type->abi.output_description ? type->abi.output_description : "";
    type->threading = static_cast<vumi_threading>(type->abi.threading);
    type->options_schema = std::move(checked.options_schema);
    type->step_schema = std::move(checked.step_schema);
    if (auto found = types.find(type->name); found != types.end())
      return refuse("handler type " + json::quoted(type->name) + " is already registered by plugin " +
                    json::quoted(found->second->plugin->name()) + " (" +
                    found->second->plugin->file().string() + ")");
    type->plugin = plugin;
    return type;
  }

  // A freshly opened image: entry, descriptor checks, init.
  Expected<Entry> load_image(const std::shared_ptr<LoadedLibrary>& plugin) const {
    Expected<const vumi_plugin_info*> raw = call_entry(plugin->library_);
    if (!raw) return Unexpected(std::move(raw).error());
    plugin->info_ = host_checks::read_plugin_info(*raw);
    const vumi_plugin_info& info = plugin->info_;
    plugin->name_ = info.name;
    plugin->version_ = info.version;
    plugin->build_tag_ = info.build_tag;
    if (auto unique = check_unique_name(*plugin); !unique) return Unexpected(std::move(unique).error());

    plugin->checked_ = host_checks::read_handler_types(info);
    Expected<Entry> entry = entry_of(plugin);
    if (!entry) return entry;

    if (info.init) {
      vumi_call call;
      call.plugin_name = plugin->name_;
      vumi_status status = VUMI_ERR_INTERNAL;
      try {
        status = info.init(&call, host_api());
      } catch (const std::exception& e) {
        return refuse("init failed: it threw an exception: " + std::string(e.what()));
      } catch (...) {
        return refuse("init failed: it threw an exception");
      }
      if (status != VUMI_OK)
        return refuse("init failed: " + (call.error.empty()
                                             ? "returned " + status_text(status) + " without a message"
                                             : call.error));
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
      if (auto safe = check_plugin_path(path); !safe) {
        state_->refusals.push_back({path, "refused: " + safe.error().message});
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
    Expected<Entry> entry = state_->load(file);
    if (!entry) {
      state_->refusals.push_back({file, std::move(entry).error().message});
      return false;
    }
    for (const auto& type : entry->types) state_->types.emplace(type->name, type);
    state_->plugins.push_back(std::move(entry).value());
    return true;
  } catch (const host_checks::Refused& refused) {  // the SDK's descriptor checks throw theirs
    state_->refusals.push_back({file, refused.what()});
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
