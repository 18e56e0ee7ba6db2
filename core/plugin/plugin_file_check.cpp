#include "plugin/plugin_file_check.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vumi::plugin {

namespace {

namespace fs = std::filesystem;

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string user_name(uid_t uid) {
  const passwd* entry = ::getpwuid(uid);
  std::string text = "uid " + std::to_string(uid);
  if (entry && entry->pw_name) text += " (" + std::string(entry->pw_name) + ")";
  return text;
}

const char* const kOverride = "or, if you accept the risk, set \"plugin_path_insecure_ok\": true";

// Success when one path (file or folder) on its own is safe; the problem otherwise.
Expected<void> check_one_path(const fs::path& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};  // the loader reports missing files itself
  const std::string name = std::string(what) + " " + path.string();
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    const bool others = st.st_mode & S_IWOTH;
    const bool group = st.st_mode & S_IWGRP;
    return fail(ErrorCode::refused, name + " is writable by " +
                                        (others && group ? "group and others"
                                         : others        ? "others"
                                                         : "its group") +
                                        " (mode " + octal_mode(st.st_mode) + "), so " +
                                        (others ? "any user on this machine" : "its group") +
                                        " could change the code the daemon runs; fix: chmod go-w " +
                                        path.string() + " (" + kOverride + ")");
  }
  const uid_t self = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != self) {
    return fail(ErrorCode::refused, name + " is owned by " + user_name(st.st_uid) +
                                        ", not root or the daemon's user " + user_name(self) +
                                        ", so that owner could change the code the daemon runs; fix: chown " +
                                        std::to_string(self) + " " + path.string() + " (" + kOverride + ")");
  }
  return {};
}

}  // namespace

Expected<void> check_plugin_path(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return check_one_path(path, "plugin folder");
  if (auto file = check_one_path(path, "plugin file"); !file) return file;
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (auto checked = check_one_path(folder, "plugin folder"); !checked) return checked;
  // Through a symlink, whoever can write the target's folder can swap the code too.
  const fs::path target = fs::canonical(path, ec);
  if (ec || target.parent_path() == fs::weakly_canonical(folder, ec)) return {};
  return check_one_path(target.parent_path(), "plugin folder");
}

}  // namespace vumi::plugin
