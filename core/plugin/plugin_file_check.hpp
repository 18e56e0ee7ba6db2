// Plugins run as the daemon's user (often root): refuse code that anyone else could have changed.
#pragma once

#include <filesystem>

#include "common/expected.hpp"

namespace vumi::plugin {

// Success when loading path (a plugin file or a folder of plugins) is safe; ErrorCode::refused
// when it is writable by group or others, or owned by a user other than root and the daemon's own
// (effective) user. For a file, the folder holding it is checked too, since whoever can write
// there can swap the file. The message names the path, the problem and the fix (chmod/chown, or
// "plugin_path_insecure_ok": true).
Expected<void> check_plugin_path(const std::filesystem::path& path);

}  // namespace vumi::plugin
