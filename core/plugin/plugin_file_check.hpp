// Plugins run as the daemon's user (often root): refuse code that anyone else could have changed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace vumi::plugin {

// Why loading path (a plugin file or a folder of plugins) is unsafe, or nullopt when it is not:
// it is writable by group or others, or owned by a user other than root and the daemon's own
// (effective) user. For a file, the folder holding it is checked too, since whoever can write
// there can swap the file. The message names the path, the problem and the fix (chmod/chown, or
// "plugin_path_insecure_ok": true).
std::optional<std::string> unsafe_plugin_path(const std::filesystem::path& path);

}  // namespace vumi::plugin
